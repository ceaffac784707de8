"""``[compute]``: how many exact partitions the reconciliation is cut into, and the Dask scheduler that runs them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, Mapping, TypeVar

from evidence_app.errors import ConfigError, EvidenceError
from evidence_app.formatting import shown
from evidence_app.masking import mask_text

C = TypeVar("C")
MAX_PARTITIONS = 4096
"""More partitions than that only multiplies the per-partition reads (a partition is a set of whole tenants)."""
MAX_TIMEOUT_SECONDS = 3600
COMPUTE_KEYS = frozenset({"partitions", "scheduler", "timeout_seconds"})
DEFAULT_SCHEDULER_PORT = 8786

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])"
"""A host name (dot-separated labels), an IPv4 address (labels of digits) or a bracketed IPv6 address."""
_SCHEDULER = re.compile(rf"tcp://(?P<host>{_HOST}):(?P<port>[0-9]{{1,5}})")


@dataclass(frozen=True)
class ComputeConfig:
    """``[compute]``: ``partitions`` (1: one pass, as before) and an optional Dask ``scheduler`` address."""

    partitions: int = 1
    """Exact partitions of the reconciliation (by tenant; a request id keeps its operation's partition)."""
    scheduler: str | None = None
    """``tcp://host:port`` of a Dask distributed scheduler; None: the partitions run one after another here."""
    timeout_seconds: int = 30
    """How long the scheduler may take to answer, and a worker to join it, before the run is refused."""

    @property
    def distributed(self) -> bool:
        """True when the work goes through the partition core (more than one partition, or a cluster)."""
        return self.partitions > 1 or self.scheduler is not None


def overridden(config: C, partitions: int | None = None, scheduler: str | None = None) -> C:
    """``config`` with ``[compute]`` replaced where the command line gave a value (None: the config's own)."""
    given = {k: v for k, v in (("partitions", partitions), ("scheduler", scheduler)) if v is not None}
    return replace(config, compute=replace(config.compute, **given)) if given else config


COMPUTE_ENV = "EVIDENCE_APP_COMPUTE"
"""How ``serve`` hands its ``--partitions``/``--scheduler`` to the web app's process (JSON of ComputeConfig)."""


def compute_to_env(compute: ComputeConfig) -> str:
    """ComputeConfig as the JSON text ``COMPUTE_ENV`` holds."""
    return json.dumps({"partitions": compute.partitions, "scheduler": compute.scheduler,
                       "timeout_seconds": compute.timeout_seconds})


def compute_from_env(text: str) -> ComputeConfig:
    """``COMPUTE_ENV``'s JSON read back, checked as ``[compute]`` is (a ConfigError naming the variable)."""
    try:
        raw = json.loads(text)
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        raise ConfigError(f"${COMPUTE_ENV}: must be a JSON object of partitions, scheduler and timeout_seconds")
    return parse_compute({k: v for k, v in raw.items() if v is not None})


def parse_compute(sec: Mapping[str, Any]) -> ComputeConfig:
    """``[compute]`` → ComputeConfig; every fault a ConfigError naming ``compute.<key>``."""
    for key in sec:
        if key not in COMPUTE_KEYS:
            name = key if key.isprintable() else repr(key)  # one line, whatever the key holds
            raise ConfigError(f"compute.{name}: unknown key (allowed: {', '.join(sorted(COMPUTE_KEYS))})")
    partitions = checked_partitions(sec.get("partitions", 1), "compute.partitions", ConfigError)
    scheduler = sec.get("scheduler")
    timeout = sec.get("timeout_seconds", ComputeConfig.timeout_seconds)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
        raise ConfigError(f"compute.timeout_seconds: must be a whole number from 1 to {MAX_TIMEOUT_SECONDS:,}, "
                          f"got {shown(timeout)}")
    return ComputeConfig(partitions=partitions,
                         scheduler=None if scheduler is None else checked_scheduler(scheduler, "compute.scheduler",
                                                                                    ConfigError),
                         timeout_seconds=timeout)


def checked_partitions(value: Any, where: str, error: type[EvidenceError] = ConfigError) -> int:
    """A whole number from 1 to MAX_PARTITIONS (never a bool or a float), else ``error`` naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PARTITIONS:
        raise error(f"{where}: must be a whole number from 1 to {MAX_PARTITIONS:,}, got {shown(value)}")
    return value


def checked_scheduler(value: Any, where: str, error: type[EvidenceError] = ConfigError) -> str:
    """A Dask scheduler address ``tcp://HOST:PORT`` (no credentials, path or query), else ``error`` naming ``where``;
    what is shown of a refused value is masked (it may hold a password someone pasted)."""
    text = value.strip() if isinstance(value, str) else None
    match = _SCHEDULER.fullmatch(text) if text else None
    if match is None or not 1 <= int(match["port"]) <= 65535:
        got = shown(mask_text(value)) if isinstance(value, str) else shown(value)
        raise error(f"{where}: must be a Dask scheduler address tcp://HOST:PORT (e.g. tcp://10.0.0.5:"
                    f"{DEFAULT_SCHEDULER_PORT}; no credentials, path or query), got {got}")
    return text


__all__ = ["COMPUTE_ENV", "ComputeConfig", "MAX_PARTITIONS", "checked_partitions", "checked_scheduler",
           "compute_from_env", "compute_to_env", "overridden", "parse_compute"]
