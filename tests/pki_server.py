"""A test PKI served on 127.0.0.1 for long-term validation tests: certomancer's Animator (RFC 3161 timestamps,
OCSP, CRLs, certificates over HTTP) behind werkzeug's server on a free port, keys generated at test time.

Root CA → intermediate CA → signers (one short-lived, one revoked before signing, others the test may revoke
later); root → two timestamp authorities (the second's certificate lives longer, for renewals). The signers'
certificates name the intermediate's CRL and OCSP responder; the intermediate and the TSAs name the root's CRL.
"""

from __future__ import annotations

import dataclasses
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

ARCH = "testing-ca"
KEYS = ("root", "interm", "interm-ocsp", "tsa", "tsa2", "signer", "short", "revoked", "later")


@dataclass(frozen=True)
class TestPki:
    """What a test needs from the running PKI."""

    base: str
    """http://127.0.0.1:PORT"""
    folder: Path
    """Where the PEM files below were written."""
    arch: object
    """certomancer's PKIArchitecture (to revoke a certificate later, as a CA would)."""
    now: datetime
    """The moment the PKI was made; validity periods are relative to it."""

    def tsa_url(self, label: str = "tsa") -> str:
        return f"{self.base}/{ARCH}/tsa/{label}"

    def pem(self, label: str) -> Path:
        """The certificate ``label`` as a PEM file."""
        return self.folder / f"{label}.cert.pem"

    def key(self, label: str) -> Path:
        """The private key of ``label`` (unencrypted PEM, generated for this test)."""
        return self.folder / f"{label}.key.pem"

    def not_after(self, label: str) -> datetime:
        return self.arch.get_cert(label).not_valid_after

    def revoke(self, label: str, since: datetime) -> None:
        """Revoke ``label`` from ``since`` on: its OCSP answers and CRLs say so from now on."""
        from certomancer.registry.issued.general import RevocationStatus

        specs = self.arch._cert_specs  # noqa: SLF001 - certomancer reads revocation from the spec on each request
        specs[label] = dataclasses.replace(specs[label], revocation=RevocationStatus(
            revoked_since=since, reason=_reason("key_compromise")))


def _reason(name: str):  # noqa: ANN202
    from asn1crypto import crl

    return crl.CRLReason(name)


def _when(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _validity(start: datetime, end: datetime) -> dict:
    return {"valid-from": _when(start), "valid-to": _when(end)}


def _usage(*bits: str) -> dict:
    return {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": list(bits)}}


def _config(base: str, now: datetime, short_lived: timedelta = timedelta(hours=1),
            tsa_pointers: bool = True) -> dict:
    """certomancer's configuration as a dictionary (what its YAML holds); ``short`` expires ``short_lived`` after
    ``now``; without ``tsa_pointers`` the first TSA's certificate names no CRL (it has no revocation pointer)."""
    ca = {"id": "basic_constraints", "critical": True, "value": {"ca": True}}
    root_crl = {"id": "crl_distribution_points", "smart-value": {"schema": "crl-dist-url",
                                                                 "params": {"crl-repo-names": ["root"]}}}
    signer_ext = [
        _usage("digital_signature", "non_repudiation"),
        {"id": "crl_distribution_points", "smart-value": {"schema": "crl-dist-url",
                                                          "params": {"crl-repo-names": ["interm"]}}},
        {"id": "authority_information_access", "smart-value": {"schema": "aia-urls", "params": {
            "ocsp-responder-names": ["interm"], "ca-issuer-links": [{"repo": "interm"}]}}},
    ]
    tsa_ext = [_usage("digital_signature"), {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
               root_crl]
    day = timedelta(days=1)

    def signer(end: datetime, **more) -> dict:
        return {"issuer": "interm", "validity": _validity(now - day, end), "extensions": signer_ext, **more}

    certs = {
        "root": {"subject": "root", "issuer": "root", "validity": _validity(now - 2 * day, now + 3650 * day),
                 "extensions": [ca, _usage("digital_signature", "key_cert_sign", "crl_sign")]},
        "interm": {"issuer": "root", "validity": _validity(now - 2 * day, now + 3000 * day),
                   "extensions": [ca, _usage("digital_signature", "key_cert_sign", "crl_sign"), root_crl]},
        "interm-ocsp": {"issuer": "interm", "validity": _validity(now - day, now + 3000 * day),
                        "extensions": [_usage("digital_signature"),
                                       {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                                       {"id": "ocsp_no_check"}]},
        "tsa": {"issuer": "root", "validity": _validity(now - day, now + 700 * day),
                "extensions": tsa_ext if tsa_pointers else tsa_ext[:-1]},
        "tsa2": {"issuer": "root", "validity": _validity(now - day, now + 1400 * day), "extensions": tsa_ext},
        "signer": signer(now + 365 * day),
        "short": signer(now + short_lived),
        "later": signer(now + 365 * day),
        "revoked": signer(now + 365 * day, revocation={"revoked-since": _when(now - timedelta(hours=1)),
                                                       "reason": "key_compromise"}),
    }
    entities = {label: {"common-name": f"test {label}"} for label in KEYS}
    return {
        "external-url-prefix": base,
        "keysets": {ARCH: {"keys": {label: {"path": f"{label}.key.pem"} for label in KEYS}}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH,
            "entity-defaults": {"country-name": "BE", "organization-name": "evidence-app test PKI"},
            "entities": entities,
            "certs": certs,
            "services": {
                "ocsp": {"interm": {"for-issuer": "interm", "responder-cert": "interm-ocsp",
                                    "signing-key": "interm-ocsp"}},
                "crl-repo": {"root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P7D"},
                             "interm": {"for-issuer": "interm", "signing-key": "interm",
                                        "simulated-update-schedule": "P7D"}},
                "cert-repo": {"root": {"for-issuer": "root", "publish-issued-certs": True},
                              "interm": {"for-issuer": "interm", "publish-issued-certs": False}},
                "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"},
                                  "tsa2": {"signing-key": "tsa2", "signing-cert": "tsa2"}},
            },
        }},
    }


def _write_keys(folder: Path) -> None:
    """A fresh P-256 key per entity (nothing private is committed)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    for label in KEYS:
        key = ec.generate_private_key(ec.SECP256R1())
        (folder / f"{label}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


@contextmanager
def local_pki(folder: Path, short_lived: timedelta = timedelta(hours=1),
              tsa_pointers: bool = True) -> Iterator[TestPki]:
    """Serve the test PKI on 127.0.0.1 (free port) for the duration of the block; the ``short`` signer's
    certificate expires ``short_lived`` after it starts; ``tsa_pointers`` as in ``_config``."""
    from asn1crypto import pem
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import CertomancerConfig
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args) -> None:  # noqa: ANN002
            pass

    folder.mkdir(parents=True, exist_ok=True)
    _write_keys(folder)
    holder: dict = {}

    def app(environ, start_response):  # noqa: ANN001, ANN202 - WSGI; the animator exists once the port is known
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    base = f"http://127.0.0.1:{server.server_port}"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    config = CertomancerConfig(_config(base, now, short_lived, tsa_pointers), key_search_dir=str(folder))
    arch = config.get_pki_arch(ARCH)
    holder["app"] = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False, allow_time_override=False)
    for label in KEYS:
        (folder / f"{label}.cert.pem").write_bytes(pem.armor("CERTIFICATE", arch.get_cert(label).dump()))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield TestPki(base, folder, arch, now)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
