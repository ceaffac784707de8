"""Machine-readable extracts (CSV) and manifest.json: deterministic bytes for the same inputs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import pandas as pd

from evidence_app.evidence.contents import PackContents
from evidence_app.formatting import iso_utc, iso_utc_text
from evidence_app.reconcile.coverage import coverage_table
from evidence_app.render import to_csv

EXTRACT_NAMES = ("coverage.csv", "exceptions.csv", "replay_status.csv", "population.csv", "sample.csv",
                 "remediation.csv")
BREAKDOWN_NAMES = ("coverage_by_operator.csv", "coverage_by_tenant.csv", "coverage_by_route.csv")
"""The full per-operator, per-tenant and per-route coverage tables behind the pack's bounded views (every value,
one line each). Packs made before them did not carry them, so :data:`EXTRACT_NAMES` stays the list verify demands."""
MANIFEST = "manifest.json"

T = TypeVar("T")


@dataclass(frozen=True)
class Extract:
    name: str
    data: bytes
    rows: int

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _times(frame: pd.DataFrame, *cols: str) -> pd.DataFrame:
    out = frame.copy()
    for c in cols:
        out[c] = iso_utc_text(out[c])
    return out


def _ops_view(ops: pd.DataFrame) -> pd.DataFrame:
    cols = ["id", "occurred_at", "tenant", "operator", "route", "action", "state", "audit_id", "failure_id"]
    view = ops[cols].rename(columns={"id": "operation_id"}) if len(ops) else pd.DataFrame(columns=cols)
    return _times(view, "occurred_at")


def build_extracts(c: PackContents) -> list[Extract]:
    """Every extract of the pack, in :data:`EXTRACT_NAMES` then :data:`BREAKDOWN_NAMES` order."""
    return in_pack_order(list(iter_extracts(c)))


def in_pack_order(items: list[T], name: Callable[[T], str] = lambda e: e.name) -> list[T]:
    """``items`` (extracts, or anything ``name`` names) in the order the pack lists its extracts."""
    order = {n: i for i, n in enumerate(EXTRACT_NAMES + BREAKDOWN_NAMES)}
    return sorted(items, key=lambda item: order[name(item)])


def iter_extracts(c: PackContents) -> Iterator[Extract]:
    """The extracts one at a time, population.csv (the largest) first: each frame is made just before its CSV
    (one million-row frame held at a time), and a caller deflating each as it comes deflates the largest while
    the others are written."""
    for name, frame in _frames(c):
        yield Extract(name, to_csv(frame).encode("utf-8"), len(frame))


def _frames(c: PackContents) -> Iterator[tuple[str, pd.DataFrame]]:
    fe_cols = ["failure_id", "created_at", "operation_id", "tenant", "operator", "route", "action", "state",
               "attempts", "latency_seconds", "error_class", "error"]
    fe = c.recon.failures
    yield "population.csv", _ops_view(c.recon.operations)
    yield "coverage.csv", coverage_table(c.recon, ["day", "tenant", "operator", "route", "action"])
    yield "exceptions.csv", c.exceptions
    yield "replay_status.csv", _times(fe[fe_cols], "created_at") if len(fe) else pd.DataFrame(columns=fe_cols)
    sample = _ops_view(c.sample)
    sample.insert(0, "draw", range(1, len(sample) + 1))
    yield "sample.csv", sample
    yield "remediation.csv", c.summary.remediation.routes
    yield "coverage_by_operator.csv", c.by_operator
    yield "coverage_by_tenant.csv", c.by_tenant
    yield "coverage_by_route.csv", c.by_route


def csv_rows(data: bytes) -> int:
    """Row count of a CSV extract as written by to_csv (header excluded)."""
    import csv
    import io

    return max(sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8")))) - 1, 0)


def manifest(c: PackContents, extracts: list[Extract], previous_sha256: str | None, signer: str,
             signer_sha256: str) -> dict:
    """manifest.json: period, scope, sources, signer (name and certificate SHA-256), each extract's hash and rows."""
    body = {
        "format": "evidence-app pack manifest 1",
        "generator": {"name": "evidence-app", "version": c.version},
        "organisation": c.config.organisation,
        "period": {"start": str(c.period.start) if c.period.start else None,
                   "end": str(c.period.end) if c.period.end else None},
        "scope": {k: list(v) for k, v in c.scope.items()},
        "generated_at": iso_utc(pd.Timestamp(c.generated_at)),
        "config_sha256": c.config_sha256,
        "signer": signer,
        "signer_sha256": signer_sha256,
        "previous_pack_sha256": previous_sha256,
        "sample": {"seed": c.sample_plan.seed, "size": c.sample_plan.size,
                   "confidence": c.sample_plan.confidence,
                   "tolerable_deviation": c.sample_plan.tolerable_deviation,
                   "population_size": c.sample_plan.population_size,
                   "population_sha256": c.sample_plan.population_sha256,
                   "method": "random.Random(seed).sample(sorted(operation ids), size)"},
        "extracts": [{"name": e.name, "rows": e.rows, "sha256": e.sha256} for e in extracts],
        "extraction": {"tool": dict(c.tools or {}), "queries": [q.as_json() for q in c.data.queries],
                       "files": [f.as_json() for f in c.files]},
    }
    if c.access_limit:
        body["access_limit"] = c.access_limit
    body["pack_id"] = pack_id(body)
    return body


def pack_id(body: dict) -> str:
    """A short id derived from the manifest (without the id itself)."""
    clean = {k: v for k, v in body.items() if k != "pack_id"}
    digest = hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest().upper()
    return "EP-" + "-".join(digest[i:i + 4] for i in range(0, 16, 4))


def manifest_bytes(body: dict) -> bytes:
    return (json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
