"""docs/DESIGN.md's reconciliation rules, each stated once: named constants and small pure functions.

This module is the contract in code. The fast kernel (``_kernel.py``) applies these rules to whole
columns at once and takes its constants and its order from here; ``states.py`` and ``replay.py``
build the states with the functions below. Tests of the rules read this module, and a test holds
the kernel to a plain, record-by-record reference built only from these functions.

The vocabulary comes first: every state, status and outcome as a StrEnum (:class:`OpState`, :class:`RowStatus`,
:class:`ReplayState`, :class:`ReplayOutcome`, :class:`RouteStatus`, :class:`Verdict`, :class:`Origin`, :class:`FixSource`,
:class:`ErrorClass`), and the defaults of the settings that shape the rules; other modules import them and never
write one as a literal (``tests/test_rule_literals.py``).

The clauses, in docs/DESIGN.md's order:

1. Candidates: a row may match an operation by equal request id (and action; time does not
   matter), or — where either side lacks a request id — by equal action, tenant, operator and
   target (a missing value equals only a missing value) with the times at most the tolerance apart
   (inclusive). Two different request ids never match. → :func:`candidate_tier`
2. Priority: pairs are taken one-to-one, greedily, in the order :data:`PRIORITY`: the row's origin
   (live, then replay, then backfill: the live row covers the operation), request-id pairs before
   key pairs, nearer in time, then operation id, then row id. → :func:`priority`,
   :func:`accept_greedily`, :func:`id_order`
3. Row statuses: a row that serves an operation is ``matched``; one that could have served an
   already covered operation is ``duplicate``; one that matches nothing is ``orphan``.
   → :func:`row_status`
4. Operation states: covered by its row's origin (``logged``/``replayed``/``backfilled``), else
   missing by what the Worker logs say (``missing_pending``/``missing_abandoned``/
   ``missing_silent``). → :func:`operation_state`
5. Replay states of failure events and the attempts count, and the class of each failure's error.
   → :func:`failure_row_exists`, :func:`replay_state`, :func:`attempts_made`, :func:`replay_latency_seconds`,
   :func:`error_class`
6. Coverage as logged and after replay; what "complete" means. → :func:`coverage_ratios`,
   :func:`complete`
7. The window: records selected by their (original) time, sources read past each edge.
   → :func:`in_period`, :func:`window_margin_seconds`
8. Accuracy and completeness of the rows that landed (issue 11): ``inaccurate`` and ``incomplete`` rows.
   → :func:`blank`, :func:`inaccurate_fields`, :func:`incomplete_fields`, :func:`detail`
9. Remediation per route (issue 11): the effective fix time and its source, silent drops before and
   after it, replays within the SLA, the ``audit_logged`` cross-checks and the route's status.
   → :func:`effective_fix`, :func:`after_fix`, :func:`replayed_within_sla`, :func:`route_status`,
   :func:`flag_false_without_failure_event`, :func:`flag_true_not_logged`
10. Log completeness: with ``[worker_logs] traces = "all"`` an operation is traced by an invocation of its route
   (:func:`route_matches`) that started within the tolerance of its time (:func:`traces`), one invocation per
   operation, nearest in time first; a missing operation without a failure event is silent only when a complete
   invocation traces it, else unprovable (:class:`Trace`). → :func:`operation_state`
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# ------------------------------------------------------------------ vocabulary
# Every name the frames hold for a state, a status or an outcome is a member below (a StrEnum member equals
# the plain string, so frames, JSON and CSV keep their text); no other module writes one as a literal
# (tests/test_rule_literals.py).


class Origin(StrEnum):
    """Where an audit row came from (``origin``), in priority order: a live row beats a replayed one, …"""

    LIVE = "live"
    REPLAY = "replay"
    BACKFILL = "backfill"


class RowStatus(StrEnum):
    """An audit row's one status (clause 3)."""

    MATCHED = "matched"
    DUPLICATE = "duplicate"
    ORPHAN = "orphan"


class OpState(StrEnum):
    """An operation's one state (clause 4): covered by its row's origin, else missing by what the logs say."""

    LOGGED = "logged"
    REPLAYED = "replayed"
    BACKFILLED = "backfilled"
    MISSING_PENDING = "missing_pending"
    MISSING_ABANDONED = "missing_abandoned"
    MISSING_SILENT = "missing_silent"
    MISSING_UNPROVABLE = "missing_unprovable"


class ReplayState(StrEnum):
    """A failure event's one replay state (clause 5)."""

    REPLAYED = "replayed"
    PENDING = "pending"
    RETRYING = "retrying"
    ABANDONED = "abandoned"
    UNCONFIRMED = "unconfirmed"


class ReplayOutcome(StrEnum):
    """What the replay cron's ``audit_log_replay`` event says of one attempt."""

    INSERTED = "inserted"
    DUPLICATE = "duplicate"
    FAILED = "failed"


class RouteStatus(StrEnum):
    """A route's remediation status (clause 9)."""

    SWEPT = "swept"
    NOT_SWEPT = "not_swept"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    """A control's result: what its check found, or that the check had nothing to test."""

    MET = "met"
    EXCEPTIONS = "met with exceptions"
    NOT_MET = "not met"
    NOT_APPLICABLE = "not applicable"
    """The check's test population is empty (no operations, no failure events, no fix in force, …): nothing was
    tested, so nothing is claimed — never ``met``; the control's line says why."""


class TraceMode(StrEnum):
    """What the Worker logs hold (``[worker_logs] traces``, clause 10): every invocation, or failures only."""

    FAILURES = "failures"
    ALL = "all"


class Trace(StrEnum):
    """What the logs show of an operation's own invocation (clause 10), when they hold every invocation."""

    COMPLETE = "complete"
    """A complete invocation of its route traces it: had its INSERT failed, the failure event would be there."""
    TRUNCATED = "truncated"
    """Only a truncated invocation traces it: a failure logged after the cut is gone."""
    NOT_IN_LOGS = "not_in_logs"
    """No invocation of its route within the tolerance of its time: a lost batch, or a job that was off."""


class FixSource(StrEnum):
    """Where a route's effective fix time comes from (clause 9)."""

    CONFIG = "config"
    FIRST_FAILURE_EVENT = "first_failure_event"


class ErrorClass(StrEnum):
    """A coarse class of a failed INSERT's error text (:func:`error_class`)."""

    OVERLOADED = "overloaded"
    RESET = "reset"
    NETWORK = "network"
    CONSTRAINT = "constraint"
    OTHER = "other"
    UNKNOWN = "unknown"


def _texts(members: Iterable[StrEnum]) -> tuple[str, ...]:
    """Members as the plain strings the frames hold (a tuple of these orders categories and columns)."""
    return tuple(str(m) for m in members)


ORIGINS: tuple[str, ...] = _texts(Origin)
"""Where an audit row came from, in priority order (a live row beats a replayed one, …)."""
NULL_ORIGIN = Origin.LIVE
"""``origin`` NULL (or blank) means the row was written live."""
UNKNOWN_ORIGIN = Origin.BACKFILL
"""An origin we do not know is no evidence of a live write: it ranks, and counts, as backfill."""

DEFAULT_TOLERANCE_SECONDS = 120
"""``[matching] tolerance_seconds`` when not set: how far apart a key match's times may lie."""

KEY_FIELDS = ("action", "tenant", "operator", "target")
"""The fields that must all be equal for a key match (action ↔ operation through the config's map)."""

MICROS = 1_000_000


def origin_of(raw: str | None) -> str:
    """An audit row's origin as the rules use it: NULL/blank → live; unknown → backfill; case and
    surrounding spaces ignored."""
    text = (raw or "").strip().lower()
    if not text:
        return NULL_ORIGIN
    return Origin(text) if text in ORIGINS else UNKNOWN_ORIGIN


def origin_unknown(raw: str | None) -> bool:
    """Whether a row names an origin the rules do not know (counted as a data issue; it ranks as backfill)."""
    text = (raw or "").strip().lower()
    return bool(text) and text not in ORIGINS


# ------------------------------------------------------------------ 1. candidates

TIER_REQUEST_ID = 0
"""A pair joined by equal request id (and action)."""
TIER_KEYS = 1
"""A pair joined by equal keys within the tolerance."""


@dataclass(frozen=True)
class Record:
    """What the rules look at in an operation, an audit row or a failure event."""

    id: str | None
    time_us: int
    """The (original) time in microseconds since the epoch, UTC."""
    action: str | None
    tenant: str | None
    operator: str | None
    target: str | None
    """Canonical target (JSON re-serialised compactly with sorted keys)."""
    request_id: str | None = None
    origin: str = NULL_ORIGIN
    """Rows only: ``live``, ``replay`` or ``backfill`` (see :func:`origin_of`)."""


def within_tolerance(delta_us: int, tolerance_s: int) -> bool:
    """Times at most the tolerance apart, the boundary included (exactly 120 s apart still match)."""
    return abs(delta_us) <= tolerance_s * MICROS


def candidate_tier(op: Record, row: Record, tolerance_s: int) -> int | None:
    """How ``row`` may match ``op``: :data:`TIER_REQUEST_ID`, :data:`TIER_KEYS`, or None (it may not)."""
    if op.request_id is not None and row.request_id is not None:
        same = op.request_id == row.request_id and op.action == row.action
        return TIER_REQUEST_ID if same else None
    keys_equal = all(getattr(op, f) == getattr(row, f) for f in KEY_FIELDS)
    return TIER_KEYS if keys_equal and within_tolerance(row.time_us - op.time_us, tolerance_s) else None


# ------------------------------------------------------------------ 2. priority, one-to-one

PRIORITY = ("origin", "tier", "time_distance", "operation_id", "row_id")
"""The order in which candidate pairs are accepted (each key ascending; earlier keys decide first)."""


def origin_rank(origin: str) -> int:
    """Live 0, replay 1, backfill 2 (an unknown origin ranks as backfill)."""
    return ORIGINS.index(origin) if origin in ORIGINS else ORIGINS.index(UNKNOWN_ORIGIN)


def id_order(ids: Sequence[str | None]) -> list[int]:
    """The rank of each id among ``ids`` ("ties broken by id"): numeric order when every id is a whole
    number (autoincrement keys read as text: 9 before 10), else code-point order; a missing id sorts as
    the empty string; equal ids rank by position."""
    keys = ["" if i is None else i for i in ids]
    numeric = bool(keys) and all(_whole_number(k) for k in keys)
    sort_key = (lambda k: int(k)) if numeric else (lambda k: k)
    order = sorted(range(len(keys)), key=lambda p: (sort_key(keys[p]), p))
    ranks = [0] * len(keys)
    for rank, position in enumerate(order):
        ranks[position] = rank
    return ranks


def _whole_number(text: str) -> bool:
    digits = text[1:] if text.startswith("-") else text
    return 0 < len(digits) <= 18 and digits.isascii() and digits.isdigit()


def priority(row_origin: str, tier: int, delta_us: int, op_id_rank: int, row_id_rank: int) -> tuple:
    """A candidate pair's place in :data:`PRIORITY` order (smaller is taken first)."""
    return (origin_rank(row_origin), tier, abs(delta_us), op_id_rank, row_id_rank)


def accept_greedily(pairs_in_priority_order: Iterable[tuple[int, int]]) -> dict[int, int]:
    """One-to-one: walk the (operation, row) pairs in priority order and take a pair when neither its
    operation nor its row is taken yet. Returns operation → row."""
    op_to_row: dict[int, int] = {}
    taken_rows: set[int] = set()
    for op, row in pairs_in_priority_order:
        if op not in op_to_row and row not in taken_rows:
            op_to_row[op] = row
            taken_rows.add(row)
    return op_to_row


# ------------------------------------------------------------------ 3. row statuses

ROW_STATUSES: tuple[str, ...] = _texts(RowStatus)


def row_status(serves_an_operation: bool, has_a_candidate: bool) -> str:
    """``matched`` when the row covers an operation; ``duplicate`` when it could have matched one (which
    another row covers: a replay of a row that had landed, a replay run twice); else ``orphan``."""
    if serves_an_operation:
        return RowStatus.MATCHED
    return RowStatus.DUPLICATE if has_a_candidate else RowStatus.ORPHAN


# ------------------------------------------------------------------ 4. operation states

OP_STATES: tuple[str, ...] = _texts(OpState)
COVERED_STATES: tuple[str, ...] = _texts((OpState.LOGGED, OpState.REPLAYED, OpState.BACKFILLED))
"""States that count as covered after replay."""
LOGGED_STATES: tuple[str, ...] = _texts((OpState.LOGGED,))
"""States that count as covered as logged (live rows only)."""
MISSING_STATES: tuple[str, ...] = _texts((OpState.MISSING_PENDING, OpState.MISSING_ABANDONED, OpState.MISSING_SILENT,
                                          OpState.MISSING_UNPROVABLE))
STATE_OF_ORIGIN = {Origin.LIVE: OpState.LOGGED, Origin.REPLAY: OpState.REPLAYED, Origin.BACKFILL: OpState.BACKFILLED}
"""The covered state an operation takes from the origin of the row covering it."""


def operation_state(covering_origin: str | None, failure_state: str | None, trace: str | None = None) -> str:
    """An operation's one state: from its covering row's origin; uncovered, from its failure event (abandoned:
    the replay gave up; else pending); with neither, a silent drop (the pre-fix swallowed INSERT) — unless the
    logs hold every invocation (``trace`` given, clause 10) and no complete one traces it: then nobody can say
    whether a failure was logged, and it is unprovable."""
    if covering_origin is not None:
        return STATE_OF_ORIGIN[covering_origin if covering_origin in ORIGINS else UNKNOWN_ORIGIN]
    if failure_state is not None:
        return OpState.MISSING_ABANDONED if failure_state == ReplayState.ABANDONED else OpState.MISSING_PENDING
    if trace is None or trace == Trace.COMPLETE:
        return OpState.MISSING_SILENT
    return OpState.MISSING_UNPROVABLE


# ------------------------------------------------------------------ 10. log completeness

TRACE_MODES: tuple[str, ...] = _texts(TraceMode)
DEFAULT_TRACE_MODE = TraceMode.FAILURES
"""``[worker_logs] traces`` when not set: a filtered job (failure events only) proves nothing about silence."""
_TEMPLATE_SEGMENT = re.compile(r":[^/]+|\[[^/\]]+\]|\{[^/}]+\}")


def route_matches(template: str, path: str) -> bool:
    """Whether an invocation's URL path is an invocation of the route: segment by segment equal, where a template
    segment ``:name``, ``[name]`` or ``{name}`` matches any one (non-empty) segment."""
    want, got = template.split("/"), path.split("/")
    return len(want) == len(got) and all(
        w == g or (bool(g) and _TEMPLATE_SEGMENT.fullmatch(w) is not None) for w, g in zip(want, got))


def is_template_segment(segment: str) -> bool:
    """``:name``, ``[name]`` or ``{name}``: a route template's placeholder for any one segment."""
    return _TEMPLATE_SEGMENT.fullmatch(segment) is not None


def traces(delta_us: int, tolerance_s: int) -> bool:
    """An invocation that started at most the tolerance before or after an operation may be its own."""
    return within_tolerance(delta_us, tolerance_s)


# ------------------------------------------------------------------ 5. failure events, replays

REPLAY_STATES: tuple[str, ...] = _texts(ReplayState)
OPEN_REPLAY_STATES: tuple[str, ...] = _texts(s for s in ReplayState if s != ReplayState.REPLAYED)
"""Failure events whose row does not exist (yet): the replay backlog and its findings."""
REPLAY_OUTCOMES: tuple[str, ...] = _texts(ReplayOutcome)
CLAIMED_OUTCOMES: tuple[str, ...] = _texts((ReplayOutcome.INSERTED, ReplayOutcome.DUPLICATE))
"""Outcomes with which the replay job claims the row exists."""
DEFAULT_MAX_REPLAY_ATTEMPTS = 24
"""``[matching] max_replay_attempts`` when not set: the attempts after which a replay is abandoned."""


def attempts_made(attempt_numbers: Iterable[float | None]) -> int:
    """How many attempts the replay job made for one failure, from its replay events. Logpush may deliver
    a line twice and may lose one: distinct attempt numbers count once each, events without a number
    count one each, and the highest number seen wins when it says more."""
    numbers = list(attempt_numbers)
    numbered = {n for n in numbers if n is not None}
    counted = len(numbered) + sum(1 for n in numbers if n is None)
    return int(max([counted, *numbered])) if numbered else counted


def failure_row_exists(linked_to_an_operation: bool, operation_covered: bool, best_candidate_of_a_row: bool) -> bool:
    """Whether a failure event's row exists now. A failure event is linked to the operation it reports by
    the candidate rule (one-to-one, in priority order, the event standing in for a row): its row exists
    when that operation is covered. An event whose operation is not in the store has its row when it is
    the best candidate of some audit row."""
    return operation_covered if linked_to_an_operation else best_candidate_of_a_row


def replay_state(row_exists: bool, claimed: bool, attempts: int, max_attempts: int) -> str:
    """A failure event's one replay state: ``replayed`` when a matching audit row exists now (whatever its
    origin); ``unconfirmed`` when the job claimed success but no such row exists (an integrity finding);
    ``pending`` before any attempt; ``abandoned`` once attempts reach the budget; else ``retrying``."""
    if row_exists:
        return ReplayState.REPLAYED
    if claimed:
        return ReplayState.UNCONFIRMED
    if attempts == 0:
        return ReplayState.PENDING
    return ReplayState.ABANDONED if attempts >= max_attempts else ReplayState.RETRYING


_ERROR_PATTERNS = (
    (ErrorClass.OVERLOADED, re.compile(r"overload|too many|busy|capacity|rate.?limit|\b429\b|\b503\b", re.I)),
    (ErrorClass.RESET, re.compile(r"reset|aborted|broken pipe|closed", re.I)),
    (ErrorClass.NETWORK, re.compile(r"network|timeout|timed out|unreachable|dns|connect|socket", re.I)),
    (ErrorClass.CONSTRAINT, re.compile(r"constraint|unique|duplicate|foreign key|not null", re.I)),
)
"""The error classes reported per failure event, tried in this order (the first that matches wins)."""


def error_class(message: str | None) -> str:
    """A coarse class for an error text: overloaded, reset, network, constraint or other (unknown: none given)."""
    if not message:
        return ErrorClass.UNKNOWN
    for name, pattern in _ERROR_PATTERNS:
        if pattern.search(message):
            return name
    return ErrorClass.OTHER


def replay_latency_seconds(original: datetime, inserted_at: datetime | None,
                           claimed_at: datetime | None) -> float | None:
    """Replay latency = the row's ``inserted_at`` (or, unknown, the job's first claimed success) − the
    original ``created_at``; None when neither is known."""
    done = inserted_at if inserted_at is not None else claimed_at
    return None if done is None else (done - original).total_seconds()


# ------------------------------------------------------------------ 6. coverage, complete


def coverage_ratios(expected: int, logged: int, covered: int) -> tuple[float | None, float | None]:
    """(coverage as logged, coverage after replay): live rows only, then live + replayed + backfilled,
    each ÷ expected; None where nothing was expected."""
    if expected == 0:
        return None, None
    return logged / expected, covered / expected


def complete(expected: int, missing: int, orphans: int, duplicates: int) -> bool:
    """The audit trail is complete for a period and scope when there was something to log, every operation
    has its row, and every row belongs to exactly one operation."""
    return expected > 0 and missing == 0 and orphans == 0 and duplicates == 0


# ------------------------------------------------------------------ 7. the window


def in_period(time_us: int | None, start_us: int | None, end_us: int | None) -> bool:
    """Operations by ``occurred_at``, rows and failure events by their original time: inside the
    inclusive UTC days [start, end] (``end_us`` is midnight after the last day; None is unbounded)."""
    if time_us is None:
        return False
    return (start_us is None or time_us >= start_us) and (end_us is None or time_us < end_us)


def window_margin_seconds(tolerance_s: int) -> int:
    """How far past each edge of the period sources are read, so an edge is never a false gap: twice the
    tolerance, because a row just outside the period may be contested by an operation just outside it
    too, and that contest decides whether it can serve the operation inside."""
    return 2 * tolerance_s


# ------------------------------------------------------------------ 8. accuracy and completeness

ACCURACY_FIELDS = ("tenant", "operator", "target", "time")
"""What an ``inaccurate`` row's detail may name, in this order (``time``: the row's time lies more than the
tolerance from the operation's)."""
COMPLETENESS_FIELDS = ("operator", "tenant", "action", "target")
"""The fields ISO/IEC 27001:2022 A.8.15 expects in every event; an ``incomplete`` row's detail names the
missing ones in this order. (A row without a usable time is rejected at loading, not listed here.)"""
DETAIL_SEPARATOR = ","


def blank(value: str | None) -> bool:
    """A field is missing when it is NULL or only whitespace."""
    return value is None or not value.strip()


def inaccurate_fields(op: Record, row: Record, tier: int | None, tolerance_s: int) -> tuple[str, ...]:
    """The fields in which a row matched to ``op`` by request id (``tier`` :data:`TIER_REQUEST_ID`) disagrees
    with the operation: tenant, operator or target different (both present), or the times more than the
    tolerance apart (the boundary is still accurate, as in :func:`within_tolerance`). A missing value on
    either side is never a difference: a blank row field makes the row incomplete, never inaccurate, and a
    blank operation field is the operations store's gap, not the row's error. Key matches agree by
    construction, so only request-id matches can be inaccurate."""
    if tier != TIER_REQUEST_ID:
        return ()
    differs = [f for f in ACCURACY_FIELDS[:3]
               if not blank(getattr(op, f)) and not blank(getattr(row, f)) and getattr(op, f) != getattr(row, f)]
    if not within_tolerance(row.time_us - op.time_us, tolerance_s):
        differs.append("time")
    return tuple(differs)


def incomplete_fields(row: Record) -> tuple[str, ...]:
    """The :data:`COMPLETENESS_FIELDS` a row (matched or not) lacks."""
    return tuple(f for f in COMPLETENESS_FIELDS if blank(getattr(row, f)))


def detail(fields: Iterable[str]) -> str:
    """An exception's ``detail``: the field names, comma-separated, in their rule's fixed order ("" for none)."""
    return DETAIL_SEPARATOR.join(fields)


# ------------------------------------------------------------------ 9. remediation per route

FIX_SOURCES: tuple[str, ...] = _texts(FixSource)
"""Where a route's effective fix time comes from."""
ROUTE_STATUSES: tuple[str, ...] = _texts(RouteStatus)
DEFAULT_REPLAY_SLA_SECONDS = 3600
"""``[remediation] replay_sla_seconds`` when not set: a replay within this many seconds is within the SLA."""


def effective_fix(configured_us: int | None, first_failure_logged_us: int | None,
                  as_of_us: int) -> tuple[int | None, str | None]:
    """A route's effective fix time and its source. ``configured_us`` is the route's own ``fixed_at`` or, when
    it has none, the global one (a route's own entry replaces the global time, it never falls back to it);
    ``first_failure_logged_us`` the log time of the first ``audit_log_insert_failed`` event naming the route
    (the fix's first visible trace). A time later than ``as_of`` is not in force yet: a configured fix still
    to come falls back to the failure events, an event logged later is not seen yet. None: no fix time."""
    if configured_us is not None and configured_us <= as_of_us:
        return configured_us, FixSource.CONFIG
    if first_failure_logged_us is not None and first_failure_logged_us <= as_of_us:
        return first_failure_logged_us, FixSource.FIRST_FAILURE_EVENT
    return None, None


def after_fix(time_us: int, fix_us: int | None) -> bool:
    """Whether an operation happened under the fix: at or after the effective fix time (an operation exactly at
    the fix time counts as after it — the fix is in force from its deployment instant on, the half-open
    interval [fixed_at, …) like the period's days). Without a fix time every operation is before it."""
    return fix_us is not None and time_us >= fix_us


def replayed_within_sla(latency_s: float | None, sla_s: int) -> bool:
    """A failure event's row landed within the SLA: its replay latency (:func:`replay_latency_seconds`, known
    only once a matching row exists) at most ``sla_s`` seconds, the boundary included."""
    return latency_s is not None and latency_s <= sla_s


def route_status(has_fix: bool, silent_drops: int, silent_after_fix: int) -> str:
    """``swept``: a fix time exists and no operation after it was dropped silently; ``not_swept``: silent drops
    after the fix time, or silent drops and no fix time at all; ``unknown``: no fix time and no silent drops
    (then no failure event names the route either, or it would give the fix time)."""
    if has_fix:
        return RouteStatus.NOT_SWEPT if silent_after_fix else RouteStatus.SWEPT
    return RouteStatus.NOT_SWEPT if silent_drops else RouteStatus.UNKNOWN


def flag_false_without_failure_event(audit_logged: bool | None, has_failure_event: bool) -> bool:
    """The API answered ``audit_logged: false`` but no failure event was logged for the operation (part 2 of
    the fix without part 1)."""
    return audit_logged is False and not has_failure_event


def flag_true_not_logged(audit_logged: bool | None, state: str) -> bool:
    """The API answered ``audit_logged: true`` but no live row covers the operation (its state is not
    ``logged``): the response vouched for a write that did not happen."""
    return audit_logged is True and state not in LOGGED_STATES


# ------------------------------------------------------------------ in words


_PRIORITY_WORDS = {
    "origin": "the row's origin (live before replay before backfill)",
    "tier": "request-id match before key match",
    "time_distance": "smaller time difference",
    "operation_id": "operation id",
    "row_id": "audit row id (ids that are all whole numbers compare as numbers)",
}


def describe(tolerance_s: int, max_attempts: int) -> tuple[str, ...]:
    """The rules above in plain words, with the values in force (for the pack's methodology)."""
    order = ", then ".join(_PRIORITY_WORDS[k] for k in PRIORITY)
    return (
        "An audit row matches an operation when both carry the same request id and action (time then does not "
        "matter; two different request ids never match), or — where either lacks a request id — when action, "
        f"tenant, operator and target are equal (a missing value equals only a missing value) and the times lie "
        f"at most {tolerance_s} s apart, the boundary included. Matching is one-to-one and deterministic: "
        f"candidate pairs are accepted greedily ordered by {order}.",
        "Rows that could match an already covered operation are duplicates; rows that match nothing are orphans. "
        f"Each operation ends in one state: {', '.join(OP_STATES)}. Coverage as logged counts live rows only; "
        "after replay it adds replayed and backfilled rows. A NULL origin means live; an unknown origin counts "
        "as backfill, never as logged.",
        "The period selects operations by their time and audit rows and failure events by their original time; "
        f"sources are read {window_margin_seconds(tolerance_s)} s beyond each edge so an edge is never a false "
        "gap. Failure events are followed through the replay job's attempts (distinct attempt numbers, the "
        f"highest number winning); reaching {max_attempts} attempts abandons them; a claimed success without a "
        "matching row is unconfirmed.",
    )


def describe_log_completeness(mode: str, tolerance_s: int) -> str:
    """Clause 10 in plain words, for the mode in force: what a ``missing_silent`` operation does and does not prove."""
    if mode == TraceMode.ALL:
        return ("The Worker logs hold every invocation ([worker_logs] traces = \"all\"): an operation without an "
                "audit row or a failure event counts as dropped silently (missing_silent) only when a complete "
                f"invocation of its route started within {tolerance_s} s of it — one invocation per operation, "
                "nearest in time first; a route's :name, [name] or {name} segment matches any one segment. Otherwise "
                "it is missing_unprovable: not_in_logs (no invocation: a lost or undelivered batch) or truncated "
                "(its invocation's logs were cut, so a failure logged after the cut is gone).")
    return ("Silence is not proven from the logs: the log job ships failure events only ([worker_logs] traces = "
            "\"failures\"), so an operation without an audit row or a failure event is counted as dropped silently "
            "(missing_silent) on the assumption that a failure would have been logged — a lost Logpush batch or a "
            "truncated invocation would look the same. Ship every invocation and set traces = \"all\" to prove it.")


def describe_accuracy_and_remediation(tolerance_s: int, replay_sla_s: int) -> tuple[str, ...]:
    """Clauses 8 and 9 in plain words, with the values in force (for the pack's methodology)."""
    return (
        "A row matched to its operation by request id is inaccurate when its "
        f"{', '.join(ACCURACY_FIELDS[:3])} differs from the operation's or its time lies more than {tolerance_s} s "
        "from the operation's; a row lacking any of "
        f"{', '.join(COMPLETENESS_FIELDS)} is incomplete (matched or not). A NULL or blank field makes a row "
        "incomplete, never inaccurate. Both are listed as exceptions naming the fields, besides any orphan or "
        "duplicate status of the same row.",
        "Remediation per route: the effective fix time is the route's own configured fixed_at, else the global "
        "one, else the log time of the first audit_log_insert_failed event naming the route, else none; a time "
        "later than the moment of evaluation is not in force yet. An operation exactly at the fix time counts as "
        "after it. A route is swept when it has a fix time and no operation after it was dropped silently, not "
        "swept when operations after the fix time (or, without a fix time, any operations) were dropped "
        "silently, otherwise unknown. Failure events count by their original time in the period; a replay is "
        f"within the SLA when its latency is at most {replay_sla_s} s.",
    )
