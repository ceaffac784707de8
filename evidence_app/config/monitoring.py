"""The ``[remediation]`` and ``[check]`` sections of evidence.toml → frozen, typed settings (validation only).

``config/settings.py`` owns the file and calls :func:`parse_remediation` and :func:`parse_check`; every fault names
its key, like the rest of the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any, Mapping

from evidence_app.errors import ConfigError

DEFAULT_REPLAY_SLA_SECONDS = 3600
DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10.0

REMEDIATION_KEYS = frozenset({"fixed_at", "replay_sla_seconds", "routes"})
CHECK_KEYS = frozenset({"min_coverage_after_replay", "min_coverage_logged", "max_pending_age",
                        "max_silent_after_fix", "max_inaccurate", "fail_on_unconfirmed", "webhook",
                        "webhook_timeout_seconds"})


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


@dataclass(frozen=True)
class CheckConfig:
    """Thresholds of ``evidence-app check`` (each may be overridden by its command-line option)."""

    min_coverage_after_replay: float | None = None
    """Breach when coverage after replay is below this ratio (0..1); None: not checked."""
    min_coverage_logged: float | None = None
    """Breach when coverage as logged is below this ratio (0..1); None: not checked."""
    max_pending_age: float | None = None
    """Breach when the oldest pending failure event is older than this many seconds; None: not checked."""
    max_silent_after_fix: int | None = None
    """Breach when more operations than this were dropped silently after their route's fix time; None: not
    checked."""
    max_inaccurate: int | None = None
    """Breach when more audit rows than this are inaccurate; None: not checked."""
    fail_on_unconfirmed: bool = True
    """Breach on any unconfirmed replay (the job claimed a row that does not exist)."""
    webhook: str | None = None
    """URL the result is POSTed to (http or https); None: no POST."""
    webhook_timeout_seconds: float = DEFAULT_WEBHOOK_TIMEOUT_SECONDS
    """How long the POST may take before it counts as undelivered."""


def parse_remediation(section: Mapping[str, Any]) -> RemediationConfig:
    """``[remediation]`` (optional) → RemediationConfig."""
    _reject_unknown(section, "remediation", REMEDIATION_KEYS)
    fixed = section.get("fixed_at")
    sla = section.get("replay_sla_seconds", DEFAULT_REPLAY_SLA_SECONDS)
    if isinstance(sla, bool) or not isinstance(sla, int) or sla < 0:
        raise ConfigError(f"remediation.replay_sla_seconds: must be a whole number ≥ 0, got {sla!r}")
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
    _reject_unknown(section, "check", CHECK_KEYS)
    defaults = CheckConfig()
    return CheckConfig(
        min_coverage_after_replay=_ratio(section, "min_coverage_after_replay", defaults.min_coverage_after_replay),
        min_coverage_logged=_ratio(section, "min_coverage_logged", defaults.min_coverage_logged),
        max_pending_age=_number(section, "max_pending_age", defaults.max_pending_age),
        max_silent_after_fix=_count(section, "max_silent_after_fix", defaults.max_silent_after_fix),
        max_inaccurate=_count(section, "max_inaccurate", defaults.max_inaccurate),
        fail_on_unconfirmed=_flag(section, "fail_on_unconfirmed", defaults.fail_on_unconfirmed),
        webhook=_text(section, "webhook"),
        webhook_timeout_seconds=_positive(section, "webhook_timeout_seconds", defaults.webhook_timeout_seconds),
    )


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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ratio(section: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = section.get(key, default)
    if value is not None and (not _is_number(value) or not 0 <= value <= 1):
        raise ConfigError(f"check.{key}: must be a ratio between 0 and 1, got {value!r}")
    return None if value is None else float(value)


def _number(section: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = section.get(key, default)
    if value is not None and (not _is_number(value) or value < 0):
        raise ConfigError(f"check.{key}: must be a number of seconds ≥ 0, got {value!r}")
    return None if value is None else float(value)


def _positive(section: Mapping[str, Any], key: str, default: float) -> float:
    value = section.get(key, default)
    if not _is_number(value) or value <= 0:
        raise ConfigError(f"check.{key}: must be a number of seconds > 0, got {value!r}")
    return float(value)


def _count(section: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = section.get(key, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ConfigError(f"check.{key}: must be a whole number ≥ 0, got {value!r}")
    return value


def _flag(section: Mapping[str, Any], key: str, default: bool) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"check.{key}: must be true or false, got {value!r}")
    return value


def _text(section: Mapping[str, Any], key: str) -> str | None:
    value = section.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(f"check.{key}: must be a URL string")
    return value
