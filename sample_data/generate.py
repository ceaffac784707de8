"""Deterministic generator of the bundled demo scenario (run: python sample_data/generate.py).

Reproduces the case evidence-app was born from: a Vienna restaurant group (3 locations) and an
Istanbul corporate-dining chain (4), 12 operator accounts, 23 audit-emitting routes, 90 days.
Before the fix date failed audit INSERTs were swallowed (silent drops, concentrated at the
lunch-time peak); from the fix date on they are logged to Logpush and replayed hourly, and the
API answers with an ``audit_logged`` flag. The fix reached the refunds route a week late, and
the sweep missed the exports route altogether: it still drops silently (while its responses
claim ``audit_logged: true``). One replay wrote the cron's service account instead of the
operator, and one live row lost its target. A backfill of the silent drops is in progress (it
has reached the end of August).

The Logpush job ships every invocation, unfiltered (``traces = "all"``), so a silent drop is proven by its own
complete invocation in the logs: except where one Logpush batch was lost (2026-09-03, 11:00–13:00 UTC, never
backfilled) and where one invocation logged past Logpush's limit and was truncated: there the silence is unprovable.

Writes operations.db, audit.db, logpush/… and evidence.toml next to this file (or into --out).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

SEED = 20261001
START = date(2026, 8, 1)
DAYS = 90
END = START + timedelta(days=DAYS - 1)  # 2026-10-29
FIX_DATE = date(2026, 10, 1)
LATE_ROUTE, LATE_FIX = "/api/refunds", date(2026, 10, 8)  # the fix reached this route a week late
UNSWEPT_ROUTE = "/api/exports"  # the sweep missed it: failures there are still swallowed
REPLAY_ACCOUNT = "svc-audit-replay"  # the replay cron's own account, written once instead of the operator
WRONG_OPERATOR_FROM = date(2026, 10, 10)  # the first replay from this day on wrote REPLAY_ACCOUNT
NO_TARGET_ON = date(2026, 10, 20)  # the first live row of this day lost its target
BACKFILL_REACHED = date(2026, 8, 31)
LOG_END = datetime(2026, 10, 29, 23, 59, 59, tzinfo=timezone.utc)
AS_OF = "2026-10-30T00:00:00Z"
SPECIAL_PURGE_DAY = date(2026, 9, 17)  # the day with 6 purges and 2 audit rows
LOST_BATCH = (datetime(2026, 9, 3, 11, tzinfo=timezone.utc), datetime(2026, 9, 3, 13, tzinfo=timezone.utc))
"""A Logpush batch that failed to push (Logpush never backfills): no invocation of this window is in the logs."""
TRUNCATED_ON = date(2026, 9, 10)  # the first silent drop of this day logged past Logpush's limit: truncated
LOGPUSH_TRUNCATED = "<<<Logpush: messages truncated>>>"
UTC = timezone.utc

VIENNA = ("vie-innere-stadt", "vie-neubau", "vie-leopoldstadt")
ISTANBUL = ("ist-levent", "ist-maslak", "ist-kadikoy", "ist-atasehir")
OPERATORS = {
    "anna.berger": "vie", "lukas.huber": "vie", "sophie.gruber": "vie",
    "max.wagner": "vie", "eva.steiner": "vie",
    "ayse.yilmaz": "ist", "mehmet.kaya": "ist", "zeynep.demir": "ist", "emre.celik": "ist",
    "elif.sahin": "ist", "burak.ozturk": "ist", "selin.arslan": "ist",
}
# Target as-logged coverage per operator (the generator drops exactly round(n × (1 − c))).
COVERAGE = {
    "anna.berger": 0.74, "lukas.huber": 0.79, "sophie.gruber": 0.83, "max.wagner": 0.86,
    "eva.steiner": 0.88, "ayse.yilmaz": 0.905, "mehmet.kaya": 0.90, "zeynep.demir": 0.895,
    "emre.celik": 0.89, "elif.sahin": 0.90, "burak.ozturk": 0.905, "selin.arslan": 0.90,
}
# operation, route, relative weight
ROUTES = (
    ("cache_purge", "/api/cache-purge", 0),  # Vienna purges are placed exactly; Istanbul below
    ("menu_item_create", "/api/menu/items", 10),
    ("menu_item_update", "/api/menu/items/update", 26),
    ("menu_item_delete", "/api/menu/items/delete", 5),
    ("menu_price_change", "/api/menu/prices", 14),
    ("menu_publish", "/api/menu/publish", 9),
    ("staff_pin_change", "/api/staff/pin", 8),
    ("staff_create", "/api/staff", 3),
    ("staff_role_change", "/api/staff/role", 3),
    ("user_delete", "/api/users/delete", 2),
    ("user_invite", "/api/users/invite", 3),
    ("refund_create", "/api/refunds", 12),
    ("refund_cancel", "/api/refunds/cancel", 3),
    ("holiday_mode_toggle", "/api/settings/holiday-mode", 2),
    ("opening_hours_update", "/api/settings/opening-hours", 3),
    ("table_layout_update", "/api/tables/layout", 3),
    ("voucher_create", "/api/vouchers", 5),
    ("voucher_void", "/api/vouchers/void", 2),
    ("payment_settings_update", "/api/settings/payments", 1),
    ("printer_config_update", "/api/devices/printers", 2),
    ("tax_rate_update", "/api/settings/tax", 1),
    ("api_key_rotate", "/api/integrations/api-key", 1),
    ("export_download", "/api/exports", 4),
)
ROUTE_OF = {op: route for op, route, _ in ROUTES}
OTHER_OPS = 3_500
ISTANBUL_PURGES = 330
VIENNA_PURGES = 158
VIENNA_PURGE_ROWS = 119
ERRORS = (
    "D1_ERROR: Database is overloaded. Requests queued for too long.",
    "D1_ERROR: Network connection lost.",
    "D1_ERROR: Connection reset by peer",
    "D1_ERROR: Database is overloaded. Too many requests queued.",
)


@dataclass
class Op:
    id: str
    at: datetime
    operation: str
    tenant: str
    operator: str
    target: str
    request_id: str
    dropped: bool = False
    fate: str = "logged"
    audit_logged: bool | None = None


def _fix_date(op: Op) -> date | None:
    """The day the fix reached the operation's route (None: never)."""
    route = ROUTE_OF[op.operation]
    return None if route == UNSWEPT_ROUTE else LATE_FIX if route == LATE_ROUTE else FIX_DATE


def _fixed(op: Op) -> bool:
    """Whether the fix was in place on the operation's route when it happened."""
    fixed = _fix_date(op)
    return fixed is not None and op.at.date() >= fixed


@dataclass
class World:
    ops: list[Op] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    log_lines: dict[date, list[str]] = field(default_factory=dict)
    invocations: dict[str, dict] = field(default_factory=dict)
    """Each operation's own invocation (Logpush workers_trace_events), by operation id; its Logs gain the failure
    events the operation logged."""


def _local_offset(tenant: str, day: date) -> int:
    if tenant.startswith("ist"):
        return 3
    return 2 if day < date(2026, 10, 25) else 1


def _op_time(rng: random.Random, tenant: str, day: date) -> datetime:
    """Business hours with a lunch peak (11:30–14:00 local) and a smaller dinner peak."""
    r = rng.random()
    if r < 0.42:
        minute = rng.uniform(11.5 * 60, 14 * 60)
    elif r < 0.62:
        minute = rng.uniform(18 * 60, 20.5 * 60)
    else:
        minute = rng.uniform(7 * 60, 22.5 * 60)
    local = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minute)
    return (local - timedelta(hours=_local_offset(tenant, day))).replace(microsecond=rng.randrange(0, 1000) * 1000)


def _is_lunch(op: Op) -> bool:
    local = op.at + timedelta(hours=_local_offset(op.tenant, op.at.date()))
    return 11.5 <= local.hour + local.minute / 60 < 14


def _target(rng: random.Random, operation: str) -> str:
    if operation.startswith(("menu_", "cache_")):
        ids = sorted(rng.sample(range(100, 400), rng.randint(1, 4)))
        return json.dumps([f"m-{i}" for i in ids])
    if operation.startswith(("staff_", "user_")):
        return json.dumps({"staff_id": f"s-{rng.randint(1, 60)}"})
    if operation.startswith("refund"):
        return json.dumps({"order_id": f"o-{rng.randint(10000, 99999)}"})
    return json.dumps({"scope": operation.split("_")[0]})


def _operators(region: str) -> list[str]:
    return [o for o, r in OPERATORS.items() if r == region]


def build_operations(rng: random.Random) -> list[Op]:
    ops: list[Op] = []
    days = [START + timedelta(days=i) for i in range(DAYS)]

    def add(operation: str, tenant: str, operator: str, day: date) -> None:
        ops.append(Op("", _op_time(rng, tenant, day), operation, tenant, operator, _target(rng, operation), ""))

    # Vienna cache purges: exactly 158, six of them on the special day.
    for _ in range(6):
        add("cache_purge", rng.choice(VIENNA), rng.choice(_operators("vie")), SPECIAL_PURGE_DAY)
    other_days = [d for d in days if d != SPECIAL_PURGE_DAY]
    for _ in range(VIENNA_PURGES - 6):
        day = rng.choice(other_days)
        add("cache_purge", rng.choice(VIENNA), rng.choice(_operators("vie")), day)
    for _ in range(ISTANBUL_PURGES):
        add("cache_purge", rng.choice(ISTANBUL), rng.choice(_operators("ist")), rng.choice(days))
    weighted = [(op, w) for op, _, w in ROUTES if w]
    names, weights = zip(*weighted)
    for _ in range(OTHER_OPS):
        operator = rng.choice(list(OPERATORS))
        tenants = VIENNA if OPERATORS[operator] == "vie" else ISTANBUL
        add(rng.choices(names, weights)[0], rng.choice(tenants), operator, rng.choice(days))
    ops.sort(key=lambda o: o.at)
    for i, op in enumerate(ops, start=1):
        op.id = f"op-{i:05d}"
        op.request_id = "req-" + hashlib.sha256(f"{SEED}:{op.id}".encode()).hexdigest()[:16]
    return ops


def _weighted_pick(rng: random.Random, pool: list[Op], k: int) -> list[Op]:
    """k items without replacement, lunch-time ops six times as likely (Efraimidis–Spirakis)."""
    keyed = sorted(pool, key=lambda o: rng.random() ** (1 / (6.0 if _is_lunch(o) else 1.0)), reverse=True)
    return keyed[:k]


def choose_drops(rng: random.Random, ops: list[Op]) -> None:
    vienna_purges = [o for o in ops if o.operation == "cache_purge" and o.tenant.startswith("vie")]
    special = [o for o in vienna_purges if o.at.date() == SPECIAL_PURGE_DAY]
    rest = [o for o in vienna_purges if o.at.date() != SPECIAL_PURGE_DAY]
    purge_drops = special[:4] + _weighted_pick(rng, rest, VIENNA_PURGES - VIENNA_PURGE_ROWS - 4)
    for o in purge_drops:
        o.dropped = True
    for operator, coverage in COVERAGE.items():
        mine = [o for o in ops if o.operator == operator]
        want = round(len(mine) * (1 - coverage))
        have = sum(o.dropped for o in mine)
        pool = [o for o in mine if not o.dropped and not (o.operation == "cache_purge" and o.tenant.startswith("vie"))]
        for o in _weighted_pick(rng, pool, max(0, want - have)):
            o.dropped = True


def assign_fates(rng: random.Random, ops: list[Op]) -> None:
    """Drops before the fix reached their route are silent (August ones backfilled); later ones are logged
    and replayed."""
    post = sorted((o for o in ops if o.dropped and _fixed(o)), key=lambda o: o.at)
    for o in ops:
        if o.dropped:
            o.fate = "backfilled" if o.at.date() <= BACKFILL_REACHED else "silent"
    for o in post:
        o.fate = "replayed"
    for o in post[-3:]:
        o.fate = "pending"
    for o in post[-6:-3]:
        o.fate = "retrying"
    early = [o for o in post if o.at.date() <= date(2026, 10, 15)]
    picks = rng.sample(early, 7)
    for o in picks[:3]:
        o.fate = "abandoned"
    for o in picks[3:5]:
        o.fate = "unconfirmed"
    for o in picks[5:7]:
        o.fate = "replayed_twice"


def _ts_sql(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _ts_iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _cron_runs(after: datetime) -> list[datetime]:
    first = (after + timedelta(hours=1)).replace(minute=5, second=0, microsecond=0)
    runs = []
    t = first
    while t <= LOG_END:
        runs.append(t)
        t += timedelta(hours=1)
    return runs


def build_rows_and_logs(rng: random.Random, ops: list[Op], max_attempts: int = 24) -> World:
    world = World(ops=ops)
    rows = world.rows
    n = 0

    def row(op: Op, created: datetime, origin: str | None, inserted: datetime, with_rid: bool,
            operator: str | None = None, target: str | None = "") -> None:
        nonlocal n
        n += 1
        rows.append((
            f"al-{n:05d}", _ts_sql(created), op.operation, ROUTE_OF[op.operation], op.tenant, operator or op.operator,
            op.target if target == "" else target, op.request_id if with_rid else None, origin, _ts_sql(inserted),
        ))

    def log(at: datetime, message: dict, level: str = "warn", script: str = "api-worker") -> None:
        line = {
            "EventTimestampMs": int(at.timestamp() * 1000),
            "EventType": "fetch" if script == "api-worker" else "scheduled",
            "Outcome": "ok",
            "ScriptName": script,
            "Logs": [{"Level": level, "Message": [json.dumps(message)], "TimestampMs": int(at.timestamp() * 1000)}],
        }
        world.log_lines.setdefault(at.date(), []).append(json.dumps(line))

    for op in ops:  # every operation is an invocation of its route (an unfiltered Logpush job)
        ms = int(op.at.timestamp() * 1000)
        world.invocations[op.id] = {
            "EventTimestampMs": ms, "EventType": "fetch", "Outcome": "ok", "ScriptName": "api-worker",
            "Event": {"Request": {"URL": f"https://api.example.com{ROUTE_OF[op.operation]}", "Method": "POST"},
                      "RayID": hashlib.sha256(f"ray:{op.id}".encode()).hexdigest()[:16]},
            "Logs": []}

    def failed(op: Op, at: datetime, message: dict) -> None:
        """A failure event, logged by the operation's own invocation."""
        world.invocations[op.id]["Logs"].append(
            {"Level": "warn", "Message": [json.dumps(message)], "TimestampMs": int(at.timestamp() * 1000)})

    no_target = next(o for o in ops if o.at.date() == NO_TARGET_ON and not o.dropped)
    # The cron wrote its own account instead of the operator once: the first replay from WRONG_OPERATOR_FROM.
    wrong_operator = next(o for o in ops if o.fate == "replayed" and o.at.date() >= WRONG_OPERATOR_FROM)
    for op in ops:
        post_fix = op.at.date() >= FIX_DATE
        op.audit_logged = _flag(op)
        delay = timedelta(milliseconds=rng.randint(40, 900))
        if not op.dropped:
            row(op, op.at + delay, None, op.at + delay, post_fix, target=None if op is no_target else "")
            continue
        if op.fate == "backfilled":
            row(op, op.at, "backfill", datetime(2026, 10, 27, 3, tzinfo=UTC) + timedelta(seconds=n), True)
            continue
        if op.fate == "silent":
            continue
        failure_id = "f-" + hashlib.sha256(op.id.encode()).hexdigest()[:12]
        err = rng.choice(ERRORS)
        failed(op, op.at + delay, {
            "event": "audit_log_insert_failed", "route": ROUTE_OF[op.operation], "operation": op.operation,
            "restaurant_id": op.tenant, "user_id": op.operator, "error": err, "failure_id": failure_id,
            "created_at": _ts_iso(op.at), "action": op.operation, "target": op.target,
            "request_id": op.request_id,
        })
        _replay(rng, op, failure_id, row, log, max_attempts, REPLAY_ACCOUNT if op is wrong_operator else None)
    # Post-fix live inserts that timed out after commit: logged as failed, replayed, duplicate row.
    landed = [o for o in ops if not o.dropped and o.at.date() >= date(2026, 10, 5) and _fixed(o)][:400:200]
    for op in landed:
        op.audit_logged = False  # the insert timed out after it committed: the API said "not logged"
        failure_id = "f-" + hashlib.sha256((op.id + ":landed").encode()).hexdigest()[:12]
        at = op.at + timedelta(seconds=2)
        failed(op, at, {
            "event": "audit_log_insert_failed", "route": ROUTE_OF[op.operation], "operation": op.operation,
            "restaurant_id": op.tenant, "user_id": op.operator, "error": "D1_ERROR: Network connection lost.",
            "failure_id": failure_id, "created_at": _ts_iso(op.at), "action": op.operation,
            "target": op.target, "request_id": op.request_id,
        })
        run = _cron_runs(op.at)[0]
        row(op, op.at, "replay", run, True)
        log(run, {"event": "audit_log_replay", "failure_id": failure_id, "attempt": 1, "outcome": "inserted"},
            level="info", script="audit-replay-cron")
    _orphans(rows, n)
    _invocation_lines(world)
    _ordinary_traffic(rng, world)
    return world


def _invocation_lines(world: World) -> None:
    """Every operation's invocation as a log line, but for the lost batch; one silent drop's invocation truncated."""
    truncated = next(o for o in world.ops if o.at.date() == TRUNCATED_ON and o.fate == "silent")
    for op in world.ops:
        if LOST_BATCH[0] <= op.at < LOST_BATCH[1]:
            continue
        record = world.invocations[op.id]
        if op is truncated:  # it logged a page of diagnostics: Logpush kept the first 16,384 characters
            at = int(op.at.timestamp() * 1000)
            record["Logs"] = [{"Level": "log", "Message": ["render " + "x" * 200], "TimestampMs": at},
                              {"Level": "log", "Message": [LOGPUSH_TRUNCATED], "TimestampMs": at}]
        world.log_lines.setdefault(op.at.date(), []).append(json.dumps(record))


def _flag(op: Op) -> bool | None:
    """The API's ``audit_logged`` answer: none before the fix reached the route; false for a failed insert,
    true otherwise — and true on the route the sweep missed, whose code still swallows the failure."""
    if ROUTE_OF[op.operation] == UNSWEPT_ROUTE:
        return True if op.at.date() >= FIX_DATE else None
    return (not op.dropped) if _fixed(op) else None


def _replay(rng, op: Op, failure_id: str, row, log, max_attempts: int,  # noqa: ANN001
            operator: str | None = None) -> None:
    runs = _cron_runs(op.at)
    if op.fate == "pending":
        return
    if op.fate == "retrying":
        plan = ["failed"] * min(len(runs), max_attempts - 1)
    elif op.fate == "abandoned":
        plan = ["failed"] * max_attempts
    elif op.fate == "unconfirmed":
        plan = ["failed"] * rng.randint(0, 2) + ["inserted"]
    else:
        plan = ["failed"] * rng.choice((0, 0, 0, 0, 1, 1, 2, 5)) + ["inserted"]
    for attempt, (outcome, at) in enumerate(zip(plan, runs), start=1):
        msg = {"event": "audit_log_replay", "failure_id": failure_id, "attempt": attempt, "outcome": outcome}
        if outcome == "failed":
            msg["error"] = rng.choice(ERRORS)
        log(at + timedelta(seconds=rng.randint(1, 50)), msg, level="info" if outcome != "failed" else "warn",
            script="audit-replay-cron")
        if outcome == "inserted" and op.fate != "unconfirmed":
            row(op, op.at, "replay", at + timedelta(seconds=rng.randint(1, 50)), True, operator=operator)
            if op.fate == "replayed_twice":  # the cron ran twice over the same failure
                row(op, op.at, "replay", at + timedelta(minutes=30), True)


def _orphans(rows: list[tuple], n: int) -> None:
    """Audit rows with no operation behind them: a staging test account and a debug action."""
    samples = [
        ("2026-08-14 09:12:03", "cache_purge", "/api/cache-purge", "vie-neubau", "qa.bot", '["m-101"]'),
        ("2026-09-02 16:40:11", "cache_purge", "/api/cache-purge", "vie-neubau", "qa.bot", '["m-102"]'),
        ("2026-10-08 07:05:55", "menu_item_update", "/api/menu/items/update", "ist-levent", "qa.bot", '["m-300"]'),
        ("2026-10-20 03:00:00", "debug_ping", "/api/debug", "ist-maslak", "emre.celik", "{}"),
    ]
    for i, (ts, action, route, tenant, user, target) in enumerate(samples, start=1):
        rows.append((f"al-x{i:02d}", ts, action, route, tenant, user, target, None, "live", ts))
    # One row whose timestamp the old code mangled: reported as unparseable, never used.
    rows.append(("al-x99", "17/09/2026 12:00", "menu_publish", "/api/menu/publish", "vie-neubau",
                 "eva.steiner", '{"scope":"menu"}', None, None, None))


def _ordinary_traffic(rng: random.Random, world: World) -> None:
    for day in sorted(world.log_lines):
        for i in range(6):
            at = datetime(day.year, day.month, day.day, rng.randint(6, 21), rng.randint(0, 59), tzinfo=UTC)
            ray = hashlib.sha256(f"ray:{day}:{i}".encode()).hexdigest()[:16]
            line = {"EventTimestampMs": int(at.timestamp() * 1000), "EventType": "fetch", "Outcome": "ok",
                    "ScriptName": "api-worker",
                    "Event": {"Request": {"URL": "https://api.example.com/api/menu", "Method": "GET"}, "RayID": ray},
                    "Logs": [{"Level": "log", "Message": ["GET /api/menu 200", "cache hit"],
                              "TimestampMs": int(at.timestamp() * 1000)}]}
            world.log_lines[day].append(json.dumps(line))


def write(world: World, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("operations.db", "audit.db"):
        (out / name).unlink(missing_ok=True)
    with sqlite3.connect(out / "operations.db") as db:
        db.execute("CREATE TABLE operations (id TEXT PRIMARY KEY, occurred_at TEXT NOT NULL, operation TEXT NOT NULL,"
                   " route TEXT, restaurant_id TEXT NOT NULL, user_id TEXT NOT NULL, target TEXT, request_id TEXT,"
                   " audit_logged INTEGER)")
        db.executemany("INSERT INTO operations VALUES (?,?,?,?,?,?,?,?,?)", [
            (o.id, _ts_iso(o.at), o.operation, ROUTE_OF[o.operation], o.tenant, o.operator, o.target, o.request_id,
             None if o.audit_logged is None else int(o.audit_logged))
            for o in world.ops
        ])
    with sqlite3.connect(out / "audit.db") as db:
        db.execute("CREATE TABLE staff_audit_logs (id TEXT PRIMARY KEY, created_at TEXT DEFAULT CURRENT_TIMESTAMP,"
                   " action TEXT NOT NULL, route TEXT, restaurant_id TEXT, user_id TEXT, target TEXT,"
                   " request_id TEXT, origin TEXT, inserted_at TEXT)")
        db.executemany("INSERT INTO staff_audit_logs VALUES (?,?,?,?,?,?,?,?,?,?)", sorted(world.rows, key=lambda r: r[0]))
    _write_logs(world, out / "logpush")
    (out / "evidence.toml").write_text(CONFIG, encoding="utf-8")


def _write_logs(world: World, folder: Path) -> None:
    if folder.exists():
        for f in sorted(folder.rglob("*"), reverse=True):
            f.unlink() if f.is_file() else f.rmdir()
    for day, lines in sorted(world.log_lines.items()):
        lines = sorted(lines, key=lambda s: json.loads(s)["EventTimestampMs"])
        sub = folder / day.strftime("%Y%m%d")
        sub.mkdir(parents=True, exist_ok=True)
        stamp = day.strftime("%Y%m%d")
        name = f"{stamp}T000000Z_{stamp}T235959Z_{hashlib.sha256(stamp.encode()).hexdigest()[:8]}.log.gz"
        data = ("\n".join(lines) + "\n").encode()
        if day == date(2026, 10, 12):  # a Logpush line cut short by a crashed exporter
            cut = data.index(b"\n", len(data) // 2)
            data = data[: cut + 1] + b'{"EventTimestampMs": 1791, "Logs": [{"Level": "warn", "Mess\n' + data[cut + 1:]
        blob = gzip.compress(data, mtime=0)
        if day == date(2026, 10, 20):  # a file whose upload was interrupted: truncated gzip
            (sub / name).write_bytes(gzip.compress(data, mtime=0))
            tail = [l for l in lines if "audit_log" not in l]
            (sub / f"{stamp}T235959Z_{stamp}T235959Z_partial.log.gz").write_bytes(
                gzip.compress(("\n".join(tail) + "\n").encode(), mtime=0)[:-40])
            continue
        (sub / name).write_bytes(blob)


CONFIG = """\
# The bundled demo scenario (generated by sample_data/generate.py; do not edit by hand).
[organisation]
name = "Spittelberg Wirtshaus GmbH & Anadolu Kurumsal Yemek A.Ş."

[audit]
url = "sqlite:///audit.db"
table = "staff_audit_logs"

[operations]
url = "sqlite:///operations.db"
table = "operations"

[worker_logs]
paths = ["logpush/**/*.log.gz", "logpush/**/*.log"]
traces = "all"                    # the Logpush job ships every invocation, unfiltered

[matching]
tolerance_seconds = 120
max_replay_attempts = 24

[remediation]
fixed_at = "2026-10-01T00:00:00Z"
replay_sla_seconds = 3600
[remediation.routes]
"/api/refunds" = "2026-10-08T00:00:00Z"

[check]
max_silent_after_fix = 0
max_inaccurate = 0
max_pending_age = 86400
"""


def generate(out: Path) -> World:
    rng = random.Random(SEED)
    ops = build_operations(rng)
    choose_drops(rng, ops)
    assign_fates(rng, ops)
    world = build_rows_and_logs(rng, ops)
    write(world, out)
    return world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    world = generate(args.out)
    print(f"{len(world.ops)} operations, {len(world.rows)} audit rows, "
          f"{sum(len(v) for v in world.log_lines.values())} log lines → {args.out}")


if __name__ == "__main__":
    main()
