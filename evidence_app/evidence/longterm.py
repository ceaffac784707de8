"""Long-term validation of a B-LTA pack, offline: the document timestamps are checked from the latest back, each
proving when the revisions before it existed, and the pack's signature is validated at the time so proven, against
the validation data embedded in the document security store only (nothing fetched)."""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from evidence_app.evidence.sign import outside_event_loop

TIMESTAMP_REVINFO_FRESHNESS = timedelta(days=365 * 100)
"""The revocation data of a timestamp authority's chain, as embedded, is taken as final: offline there is nothing
newer to ask. A pack is therefore verifiable until the latest timestamp certificate expires, not until its CRL's
next update; an authority's revocation published after the last renewal is not seen by an offline verifier."""


_VALIDATION_TIME: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("validation_time", default=None)
"""The time the validation under way is made as of (``at``)."""


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

    def run():  # noqa: ANN202 - the validation, with its time set in the thread that runs it
        _VALIDATION_TIME.set(moment)
        return asyncio.run(ades_lta_validation(embedded, spec, timing_info=timing))

    _route_control_time()
    result = outside_event_loop(run)
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


def _initial_control_time(leaf, moment: datetime) -> datetime:  # noqa: ANN001 - an asn1crypto certificate
    """Where the past validation of a chain (the signer's, a timestamp authority's) starts sliding back from: the
    validation time, but never after its certificate expired (a CA reports no revocation of an expired
    certificate, so nothing after the expiry can tell more; what the certificate signed must be proven to exist
    before — by a document timestamp — for the past validation to pass)."""
    expiry = leaf.not_valid_after.astimezone(timezone.utc)
    return min(moment, expiry - timedelta(seconds=1))


def _route_control_time() -> None:
    """pyHanko starts the past validation of a chain (the signer's, a timestamp authority's) at the wall clock
    (``past_validate`` is called without an initial control time), which made the verdict depend on when it was
    run rather than on ``at`` (and a renewed pack passed only while the clock was before the first timestamp
    certificate's expiry): the call is routed to start at ``_initial_control_time`` instead. Likewise the proofs
    of existence pyHanko records without a time (the latest timestamp, the data it covers) are dated at ``at``,
    not at the wall clock."""
    from pyhanko.sign.validation import ades
    from pyhanko_certvalidator.ltv.poe import POEManager

    class DatedPOEManager(POEManager):
        def __init__(self, current_dt_override: datetime | None = None) -> None:
            super().__init__(current_dt_override=current_dt_override or _VALIDATION_TIME.get())

    original = ades.past_validate
    if getattr(original, "evidence_app_routed", False):
        return

    async def past_validate(path, *args, init_control_time=None, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        moment = _VALIDATION_TIME.get()
        if init_control_time is None and moment is not None:
            leaf = path.leaf
            certificate = getattr(leaf, "not_valid_after", None) is not None
            init_control_time = _initial_control_time(leaf, moment) if certificate else moment
        return await original(path, *args, init_control_time=init_control_time, **kwargs)

    past_validate.evidence_app_routed = True
    ades.past_validate = past_validate
    ades.POEManager = DatedPOEManager


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
