"""Long-term validation of a B-LTA pack, offline: the document timestamps are checked from the latest back, each
proving when the revisions before it existed, and the pack's signature is validated at the time so proven, against
the validation data embedded in the document security store only (nothing fetched)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from evidence_app.evidence.sign import outside_event_loop

TIMESTAMP_REVINFO_FRESHNESS = timedelta(days=365 * 100)
"""The revocation data of a timestamp authority's chain, as embedded, is taken as final: offline there is nothing
newer to ask. A pack is therefore verifiable until the latest timestamp certificate expires, not until its CRL's
next update; an authority's revocation published after the last renewal is not seen by an offline verifier."""


@dataclass(frozen=True)
class LongTerm:
    """The outcome of the long-term validation."""

    ok: bool
    """The signature is valid as of the time the document timestamps prove, with embedded validation data."""
    detail: str
    """What was found, in words."""
    proven_at: datetime | None
    """The time the oldest valid document timestamp after the signature proves the signature existed."""


def validate(embedded, anchors: tuple[bytes, ...], at: datetime | None = None) -> LongTerm:  # noqa: ANN001
    """PAdES-LTA validation (ETSI EN 319 102-1 §5.6.3, pyHanko's ``ades_lta_validation``) of the pack's signature
    as of ``at`` (default now), trusting exactly ``anchors`` for signers and timestamp authorities alike."""
    from pyhanko.sign.ades.report import AdESPassed
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

    moment = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    timing = ValidationTimingInfo(validation_time=moment, best_signature_time=moment, point_in_time_validation=False)
    spec = _spec(anchors)
    result = outside_event_loop(lambda: asyncio.run(ades_lta_validation(embedded, spec, timing_info=timing)))
    proven = result.oldest_evidence_record_timestamp
    if result.ades_subindic != AdESPassed.OK:
        why = result.failure_msg or str(result.ades_subindic)
        return LongTerm(False, f"not valid as of {_utc(moment)}: {why} ({result.ades_subindic.name})", proven)
    if proven is None:
        return LongTerm(False, "the document timestamps after the signature do not validate against the trust "
                               "anchors and the embedded validation data, so nothing proves when it was signed",
                        None)
    return LongTerm(True, f"valid as of {_utc(moment)}, offline: a document timestamp proves the signature existed at "
                          f"{_utc(proven)}; the signer's chain, the timestamp authorities' chains and their "
                          "revocation status checked against the validation data embedded in the pack", proven)


def _spec(anchors: tuple[bytes, ...]):  # noqa: ANN202 - a PdfSignatureValidationSpec
    """Validation settings: revocation data required below every anchor; nothing fetched."""
    from asn1crypto import x509
    from pyhanko.sign.validation.policy_decl import (
        CertificateFetchingRule,
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy, FreshnessReqType
    from pyhanko_certvalidator.registry import SimpleTrustManager

    manager = SimpleTrustManager.build(trust_roots=[x509.Certificate.load(d) for d in anchors])
    signer_policy = CertValidationPolicySpec(trust_manager=manager, revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO))
    ts_policy = CertValidationPolicySpec(trust_manager=manager, revinfo_policy=CertRevTrustPolicy(
        REQUIRE_REVINFO, freshness=TIMESTAMP_REVINFO_FRESHNESS,
        freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION))
    offline = RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
                                          certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH)
    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=signer_policy, ts_cert_validation_policy=ts_policy, revinfo_gathering_policy=offline,
        key_usage_settings=usage))


def timestamp_certificate_expiry(embedded) -> tuple[datetime, str]:  # noqa: ANN001 - a document timestamp
    """When the certificate of this timestamp's authority expires, and its subject: after that, nothing proves
    the timestamp unless a later one covers it."""
    cert = embedded.signer_cert
    return cert.not_valid_after.astimezone(timezone.utc), cert.subject.human_friendly


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
