"""The ``[remediation]`` and ``[check]`` sections of evidence.toml → frozen, typed settings (validation only).

``config/settings.py`` owns the file and calls :func:`parse_remediation` and :func:`parse_check`; every fault names
its key, like the rest of the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timezone
from typing import Any, Mapping

from evidence_app.config.thresholds import MAX_COUNT, Limit, read_section, threshold
from evidence_app.errors import ConfigError
from evidence_app.reconcile.rules import DEFAULT_REPLAY_SLA_SECONDS

DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10.0

REMEDIATION_KEYS = frozenset({"fixed_at", "replay_sla_seconds", "routes"})


@dataclass(frozen=True)
class RemediationConfig:
    """When the fix (docs/DESIGN.md's four parts) was deployed, and how fast a replay must land."""

    fixed_at: datetime | None = None
    """The fix's deployment (UTC) for every route without its own entry; None: not configured."""
    replay_sla_seconds: int = DEFAULT_REPLAY_SLA_SECONDS
    """A replay lands within the SLA when its latency is at most this many seconds."""
    routes: Mapping[str, datetime] = field(default_factory=dict)
    """route → its own deployment time (UTC), replacing ``fixed_at`` for that route."""

    def configured_fix(self, route: str | None) -> datetime | None:
        """The configured fix time of ``route``: its own entry, else the global one (a NULL route has only
        the global one)."""
        if route is not None and route in self.routes:
            return self.routes[route]
        return self.fixed_at


_RATIO = Limit(float, "a ratio between 0 and 1", low=0.0, high=1.0, optional=True, unit="share")
_MAXIMUM = Limit(int, f"a whole number from 0 to {MAX_COUNT:,}", low=0, high=MAX_COUNT, optional=True)
MAX_AGE_SECONDS = 1e9
"""The longest age a threshold may name (about 31 years): a larger one would switch the check off in effect."""
MAX_WEBHOOK_TIMEOUT_SECONDS = 3600.0
"""The longest deadline a webhook delivery may be given (a cron run must end)."""
MAX_SLA_SECONDS = 10**9
"""The longest replay SLA (about 31 years)."""


@dataclass(frozen=True)
class CheckConfig:
    """Thresholds of ``evidence-app check`` (each may be overridden by its command-line option)."""

    min_coverage_after_replay: float | None = threshold(None, _RATIO)
    """Breach when coverage after replay is below this ratio (0..1); None: not checked."""
    min_coverage_logged: float | None = threshold(None, _RATIO)
    """Breach when coverage as logged is below this ratio (0..1); None: not checked."""
    max_pending_age: float | None = threshold(None, Limit(float, f"a number of seconds from 0 to {MAX_AGE_SECONDS:g}",
                                                          low=0.0, high=MAX_AGE_SECONDS, optional=True, unit="s"))
    """Breach when the oldest pending failure event is older than this many seconds; None: not checked."""
    max_silent_after_fix: int | None = threshold(None, _MAXIMUM)
    """Breach when more operations than this were dropped silently after their route's fix time; None: not
    checked."""
    max_unprovable: int | None = threshold(None, _MAXIMUM)
    """Breach when more missing operations than this are unprovable from the logs (``traces = "all"``); None: not
    checked."""
    max_inaccurate: int | None = threshold(None, _MAXIMUM)
    """Breach when more audit rows than this are inaccurate; None: not checked."""
    fail_on_unconfirmed: bool = threshold(True, Limit(bool, "true or false"))
    """Breach on any unconfirmed replay (the job claimed a row that does not exist)."""
    webhook: str | None = threshold(None, Limit(str, "a URL string", optional=True))
    """URL the result is POSTed to (http or https); None: no POST."""
    webhook_timeout_seconds: float = threshold(DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
                                               Limit(float, f"a number of seconds above 0, at most "
                                                     f"{MAX_WEBHOOK_TIMEOUT_SECONDS:g}", low=0.0, low_open=True,
                                                     high=MAX_WEBHOOK_TIMEOUT_SECONDS, unit="s"))
    """How long the POST may take before it counts as undelivered."""


CHECK_KEYS = frozenset(f.name for f in fields(CheckConfig))
"""The keys of ``[check]``: the fields of CheckConfig."""


def parse_remediation(section: Mapping[str, Any]) -> RemediationConfig:
    """``[remediation]`` (optional) → RemediationConfig."""
    _reject_unknown(section, "remediation", REMEDIATION_KEYS)
    fixed = section.get("fixed_at")
    sla = section.get("replay_sla_seconds", DEFAULT_REPLAY_SLA_SECONDS)
    if isinstance(sla, bool) or not isinstance(sla, int) or not 0 <= sla <= MAX_SLA_SECONDS:
        raise ConfigError(f"remediation.replay_sla_seconds: must be a whole number from 0 to {MAX_SLA_SECONDS:,}, "
                          f"got {sla!r}")
    routes = section.get("routes", {})
    if not isinstance(routes, dict):
        raise ConfigError("remediation.routes: must be a table ([remediation.routes]) of route = fix time")
    return RemediationConfig(
        fixed_at=None if fixed is None else utc_instant(fixed, "remediation.fixed_at"),
        replay_sla_seconds=sla,
        routes={route: utc_instant(value, f'remediation.routes."{route}"') for route, value in routes.items()},
    )


def parse_check(section: Mapping[str, Any]) -> CheckConfig:
    """``[check]`` (optional) → CheckConfig; keys left out keep their defaults."""
    return read_section(CheckConfig, section, "check")


def utc_instant(value: Any, key: str) -> datetime:
    """A TOML date-time or date, or ISO-8601 text, as an aware UTC datetime (a missing zone means UTC, a date
    means its midnight)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ConfigError(f"{key}: expected an ISO-8601 time such as 2026-10-01T00:00:00Z, got {value!r}") from exc
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(), timezone.utc)
    raise ConfigError(f"{key}: expected an ISO-8601 time such as 2026-10-01T00:00:00Z, got {value!r}")


def _reject_unknown(section: Mapping[str, Any], where: str, allowed: frozenset[str]) -> None:
    for key in section:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")
