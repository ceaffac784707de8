"""Benchmark stores of two shapes, built once under bench/out/ and reused.

``tidy``: the shape the first benchmark used — 7 tenants, 12 operators, 997 targets, rows in time order.

``realistic``: what a real SaaS audit trail looks like (issue 10) — 30 days, 2,000 tenants and 5,000
operators (each operator works for one tenant; a few tenants and operators do most of the work), a distinct
JSON target per operation (``[483920]``, and objects such as ``{"order": 81, "line": 3}``), about a tenth
of the audit rows writing their target with spaces or another key order (so canonicalisation does work),
request ids on about half, ~5 % of audit rows appended after the rest, out of time order (replays and
backfills written later), operations stored with their times jittered (not in time order). Timestamps are
SQLite REAL epoch seconds (``--times real``, the default) or ISO-8601 text (``--times iso``); in PostgreSQL,
``timestamptz``.

    python bench/stores.py --profile realistic --sizes 100000,1000000 --engines sqlite,postgresql
"""

from __future__ import annotations

import argparse
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
PG_DSN = "host=127.0.0.1 user=postgres dbname=postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

TIDY_START = datetime(2026, 1, 1, tzinfo=UTC)
TIDY_DAYS = 90
REAL_START = datetime(2026, 9, 1, tzinfo=UTC)
REAL_DAYS = 30

TENANTS, OPERATORS, ACTIONS, ROUTES = 2_000, 5_000, 40, 60

Op = tuple  # (id, time, operation, route, tenant, operator, target, request_id)
Row = tuple  # (id, time, action, route, tenant, operator, target, request_id, origin, inserted_at)


def period(profile: str) -> tuple[datetime, int]:
    """First day and number of days a profile's stores span."""
    return (TIDY_START, TIDY_DAYS) if profile == "tidy" else (REAL_START, REAL_DAYS)


# ------------------------------------------------------------------------------------------- rows


def tidy_rows(n: int, seed: int = 7) -> Iterator[tuple[Op, Row | None]]:
    """90 % live, 4 % replayed, 6 % missing; in time order; few tenants, operators and targets."""
    rng = random.Random(seed)
    span = TIDY_DAYS * 86400
    for i in range(n):
        t = TIDY_START + timedelta(seconds=span * i / n + rng.random())
        op = (f"op-{i:08d}", t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), f"action_{i % 23}", f"/api/r{i % 23}",
              f"t{i % 7}", f"u{i % 12}", f'["m-{i % 997}"]', f"req-{i:08d}" if i % 2 else None)
        r = rng.random()
        row = None
        if r < 0.90:
            row = (f"al-{i:08d}", (t + timedelta(milliseconds=300)).strftime("%Y-%m-%d %H:%M:%S"), op[2], op[3],
                   op[4], op[5], op[6], op[7], None, None)
        elif r < 0.94:
            row = (f"al-{i:08d}", t.strftime("%Y-%m-%d %H:%M:%S"), op[2], op[3], op[4], op[5], op[6], op[7],
                   "replay", (t + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"))
        yield op, row


def _skewed(rng: random.Random, k: int) -> int:
    """0..k-1, the low numbers far more often (a few big tenants, a long tail)."""
    return min(int(rng.paretovariate(1.2)) - 1, k - 1) if rng.random() < 0.7 else rng.randrange(k)


def _target(rng: random.Random, i: int) -> tuple[str, str]:
    """The operation's target and the audit row's spelling of it (same meaning, sometimes other text)."""
    if i % 3:
        text = f"[{i}]"
        return text, (f"[ {i} ]" if rng.random() < 0.1 else text)
    order, line = divmod(i, 7)
    text = f'{{"line":{line},"order":{order}}}'
    r = rng.random()
    if r < 0.05:
        return text, f'{{"order": {order}, "line": {line}}}'
    if r < 0.10:
        return text, f'{{"line": {line}, "order": {order}}}'
    return text, text


def realistic_rows(n: int, seed: int = 11) -> Iterator[tuple[list[Op], list[Row]]]:
    """Chunks of (operations, audit rows) as they sit in the stores; the late rows come in the last chunk."""
    rng = random.Random(seed)
    span = REAL_DAYS * 86400
    start = REAL_START.timestamp()
    operator_tenant = [_skewed(rng, TENANTS) for _ in range(OPERATORS)]
    late: list[Row] = []
    chunk = 50_000
    for lo in range(0, n, chunk):
        ops: list[Op] = []
        rows: list[Row] = []
        for i in range(lo, min(n, lo + chunk)):
            t = start + span * i / n + rng.uniform(-600, 600)  # jittered: not stored in time order
            t = min(max(t, start), start + span - 1)
            user = _skewed(rng, OPERATORS)
            action = _skewed(rng, ACTIONS)
            target, spelled = _target(rng, i)
            req = f"req-{rng.getrandbits(48):012x}" if rng.random() < 0.5 else None
            op = (f"op-{i:09d}", t, f"action_{action}", f"/api/v1/r{action % ROUTES}",
                  f"tenant-{operator_tenant[user]:05d}", f"user-{user:06d}", target, req)
            ops.append(op)
            r = rng.random()
            if r < 0.88:
                rows.append((f"al-{i:09d}", t + rng.uniform(0.01, 2.0), op[2], op[3], op[4], op[5], spelled, req,
                             None, None))
            elif r < 0.925:  # replayed later: appended after everything else, out of time order
                late.append((f"al-{i:09d}", t, op[2], op[3], op[4], op[5], spelled, req, "replay",
                             t + rng.uniform(600, 6 * 3600)))
            elif r < 0.935:
                late.append((f"al-{i:09d}", t, op[2], op[3], op[4], op[5], spelled, req, "backfill",
                             t + 2 * 86400))
            elif r < 0.937:  # an orphan: a row whose operation is not there
                rows.append((f"al-x{i:09d}", t, op[2], op[3], op[4], f"user-{(user + 1) % OPERATORS:06d}",
                             f"[{i + n}]", None, None, None))
        yield ops, rows
    rng.shuffle(late)
    for lo in range(0, len(late), chunk):
        yield [], late[lo:lo + chunk]


# ------------------------------------------------------------------------------------------- stores

_OPS_COLS = "id, occurred_at, operation, route, restaurant_id, user_id, target, request_id"
_AUDIT_COLS = "id, created_at, action, route, restaurant_id, user_id, target, request_id, origin, inserted_at"


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _as_text_times(chunk: list[tuple], positions: tuple[int, ...]) -> list[tuple]:
    out = []
    for row in chunk:
        row = list(row)
        for p in positions:
            row[p] = _iso(row[p])
        out.append(tuple(row))
    return out


def _chunks(profile: str, n: int) -> Iterator[tuple[list[Op], list[Row]]]:
    if profile == "realistic":
        yield from realistic_rows(n)
        return
    ops, rows = [], []
    for op, row in tidy_rows(n):
        ops.append(op)
        if row:
            rows.append(row)
        if len(ops) >= 50_000:
            yield ops, rows
            ops, rows = [], []
    yield ops, rows


def build_sqlite(profile: str, n: int, times: str = "real") -> Path:
    """A folder with operations.db, audit.db and evidence.toml (built once)."""
    folder = OUT / (f"sqlite-{n}" if profile == "tidy" else f"sqlite-{profile}-{times}-{n}")
    if (folder / "evidence.toml").exists():
        return folder / "evidence.toml"
    folder.mkdir(parents=True, exist_ok=True)
    kind = "REAL" if profile == "realistic" and times == "real" else "TEXT"
    ops_db, audit_db = sqlite3.connect(folder / "operations.db"), sqlite3.connect(folder / "audit.db")
    for db in (ops_db, audit_db):
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
    ops_db.execute(f"CREATE TABLE operations (id TEXT, occurred_at {kind}, operation TEXT, route TEXT,"
                   " restaurant_id TEXT, user_id TEXT, target TEXT, request_id TEXT)")
    audit_db.execute(f"CREATE TABLE staff_audit_logs (id TEXT, created_at {kind}, action TEXT, route TEXT,"
                     f" restaurant_id TEXT, user_id TEXT, target TEXT, request_id TEXT, origin TEXT,"
                     f" inserted_at {kind})")
    for ops, rows in _chunks(profile, n):
        if profile == "realistic" and times == "iso":
            ops, rows = _as_text_times(ops, (1,)), _as_text_times(rows, (1, 9))
        ops_db.executemany(f"INSERT INTO operations ({_OPS_COLS}) VALUES (?,?,?,?,?,?,?,?)", ops)
        audit_db.executemany(f"INSERT INTO staff_audit_logs ({_AUDIT_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    ops_db.execute("CREATE INDEX ix_ops_t ON operations(occurred_at)")
    audit_db.execute("CREATE INDEX ix_audit_t ON staff_audit_logs(created_at)")
    for db in (ops_db, audit_db):
        db.commit()
        db.close()
    return _config(folder, "sqlite:///audit.db", "sqlite:///operations.db", "staff_audit_logs", "operations")


def build_postgres(profile: str, n: int) -> Path:
    """Tables in the local PostgreSQL (timestamptz for the realistic profile) and a config naming them."""
    import psycopg

    folder = OUT / (f"pg-{n}" if profile == "tidy" else f"pg-{profile}-{n}")
    suffix = "" if profile == "tidy" else "r"
    ops_t, audit_t = f"bench_ops{suffix}_{n}", f"bench_audit{suffix}_{n}"
    kind = "text" if profile == "tidy" else "timestamptz"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (audit_t,)).fetchone()[0]
        if exists is None or not (folder / "evidence.toml").exists():
            conn.execute(f"DROP TABLE IF EXISTS {ops_t}, {audit_t}")
            conn.execute(f"CREATE TABLE {ops_t} (id text, occurred_at timestamptz,"
                         " operation text, route text, restaurant_id text, user_id text, target text,"
                         " request_id text)")
            conn.execute(f"CREATE TABLE {audit_t} (id text, created_at {kind}, action text, route text,"
                         f" restaurant_id text, user_id text, target text, request_id text, origin text,"
                         f" inserted_at {kind})")
            # One COPY per connection: a connection cannot run two COPYs at once.
            with psycopg.connect(PG_DSN, autocommit=True) as other, \
                    conn.cursor().copy(f"COPY {ops_t} ({_OPS_COLS}) FROM STDIN") as c_ops, \
                    other.cursor().copy(f"COPY {audit_t} ({_AUDIT_COLS}) FROM STDIN") as c_audit:
                for ops, rows in _chunks(profile, n):
                    if profile == "realistic":
                        ops, rows = _as_text_times(ops, (1,)), _as_text_times(rows, (1, 9))
                    for op in ops:
                        c_ops.write_row(op)
                    for row in rows:
                        c_audit.write_row(row)
            conn.execute(f"CREATE INDEX ON {ops_t}(occurred_at)")
            conn.execute(f"CREATE INDEX ON {audit_t}(created_at)")
            conn.execute(f"ANALYZE {ops_t}")
            conn.execute(f"ANALYZE {audit_t}")
    folder.mkdir(parents=True, exist_ok=True)
    return _config(folder, PG_URL, PG_URL, audit_t, ops_t)


def build(profile: str, engine: str, n: int, times: str = "real") -> Path:
    return build_sqlite(profile, n, times) if engine == "sqlite" else build_postgres(profile, n)


def _config(folder: Path, audit_url: str, ops_url: str, audit_t: str, ops_t: str) -> Path:
    cfg = folder / "evidence.toml"
    cfg.write_text(f'[audit]\nurl = "{audit_url}"\ntable = "{audit_t}"\n'
                   f'[operations]\nurl = "{ops_url}"\ntable = "{ops_t}"\n')
    return cfg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("tidy", "realistic"), default="realistic")
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument("--times", choices=("real", "iso"), default="real")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            print(build(args.profile, engine, n, args.times))


if __name__ == "__main__":
    main()
