"""Clause 10, log completeness, over whole columns: which operations an invocation of their route traces.

Used only when ``[worker_logs] traces = "all"`` (the log job ships every invocation). Each operation is paired with
the invocations of its route (:func:`~evidence_app.reconcile.rules.route_matches`) that started within the tolerance
of its time; pairs are taken one-to-one, nearest in time first, ties by operation id then by the order the
invocations were read. An operation traced by a complete invocation could have had its failure logged; one traced
only by a truncated invocation, or by none, could not be shown either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evidence_app.columns.order import micros, text_rank
from evidence_app.columns.text import expanded
from evidence_app.reconcile import rules
from evidence_app.reconcile.rules import Trace

TRACES: tuple[str, ...] = (Trace.COMPLETE, Trace.TRUNCATED, Trace.NOT_IN_LOGS)
"""Trace codes: the index of each value in this tuple."""


def trace_operations(ops: pd.DataFrame, invocations: pd.DataFrame, tolerance_s: int) -> np.ndarray:
    """Per operation, the index into :data:`TRACES` of what the logs show of its invocation."""
    out = np.full(len(ops), TRACES.index(Trace.NOT_IN_LOGS), dtype=np.int64)
    if not len(ops) or not len(invocations):
        return out
    route_codes, routes = pd.factorize(expanded(ops["route"]).astype(object))
    inv = invocations[invocations["started_at"].notna() & invocations["path"].notna()]
    path_codes, paths = pd.factorize(inv["path"].astype(object))
    by_route = _invocations_by_route(list(routes), list(paths), path_codes)
    op_us, inv_us = micros(ops["occurred_at"]), micros(inv["started_at"])
    inv_rows = np.arange(len(inv))
    pairs = [_pairs(np.flatnonzero(route_codes == r), op_us, inv_rows[found], inv_us, tolerance_s)
             for r, found in by_route.items()]
    pairs = [p for p in pairs if len(p[0])]
    if not pairs:
        return out
    op_i, inv_i, dist = (np.concatenate(part) for part in zip(*pairs))
    order = np.lexsort((inv_i, text_rank(ops["id"])[op_i], dist))  # nearest first, then operation id, then read order
    taken_ops = rules.accept_greedily(zip(op_i[order].tolist(), inv_i[order].tolist()))
    truncated = inv["truncated"].to_numpy(dtype=bool)
    for op, found in taken_ops.items():
        out[op] = TRACES.index(Trace.TRUNCATED if truncated[found] else Trace.COMPLETE)
    return out


def _invocations_by_route(routes: list[str], paths: list[str], path_codes: np.ndarray) -> dict[int, np.ndarray]:
    """Route code → positions of the invocations whose path is an invocation of that route (a route template's
    placeholders match any one segment: a trie of the routes' segments, walked once per distinct path)."""
    trie: dict = {}
    for code, route in enumerate(routes):
        node = trie
        for segment in route.split("/"):
            key = "*" if rules.is_template_segment(segment) else "=" + segment
            node = node.setdefault(key, {})
        node.setdefault("", []).append(code)
    matches: dict[int, list[int]] = {}
    for p, path in enumerate(paths):
        for code in _walk(trie, path.split("/")):
            matches.setdefault(code, []).append(p)
    return {code: np.flatnonzero(np.isin(path_codes, found)) for code, found in matches.items()}


def _walk(trie: dict, segments: list[str]) -> list[int]:
    """Every route whose template the segments fit."""
    nodes = [trie]
    for segment in segments:
        nodes = [child for node in nodes for child in (node.get("=" + segment), node.get("*") if segment else None)
                 if child is not None]
        if not nodes:
            return []
    return [code for node in nodes for code in node.get("", [])]


def _pairs(op_rows: np.ndarray, op_us: np.ndarray, inv_rows: np.ndarray, inv_us: np.ndarray,
           tolerance_s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (operation, invocation, |Δt| µs) of one route with the times at most the tolerance apart."""
    if not len(op_rows) or not len(inv_rows):
        empty = np.array([], dtype=np.int64)
        return empty, empty, empty
    inv_rows = inv_rows[np.argsort(inv_us[inv_rows], kind="stable")]
    times = inv_us[inv_rows]
    margin = tolerance_s * rules.MICROS
    lo = np.searchsorted(times, op_us[op_rows] - margin, side="left")
    hi = np.searchsorted(times, op_us[op_rows] + margin, side="right")
    counts = hi - lo
    ops_rep = np.repeat(op_rows, counts)
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    within = np.arange(counts.sum()) + starts
    found = inv_rows[within]
    return ops_rep, found, np.abs(inv_us[found] - op_us[ops_rep])
