"""Benchmark stores of two shapes, built once under bench/out/ and reused.

``tidy``: the shape the first benchmark used — 7 tenants, 12 operators, 997 targets, rows in time order.

``realistic``: what a real SaaS audit trail looks like (issue 10) — 30 days, 2,000 tenants and 5,000
operators (each operator works for one tenant; a few tenants and operators do most of the work), a distinct
JSON target per operation (``[483920]``, and objects such as ``{"order": 81, "line": 3}``), about a tenth
of the audit rows writing their target with spaces or another key order (so canonicalisation does work),
request ids on about half, ~5 % of audit rows appended after the rest, out of time order (replays and
backfills written later), operations stored with their times jittered (not in time order). Timestamps are
SQLite REAL epoch seconds (``--times real``, the default) or ISO-8601 text (``--times iso``); in PostgreSQL,
``timestamptz``; in MariaDB, ``DATETIME(6)`` (UTC).

``--order`` sets the rows' physical order (issue 21): ``time`` (as generated, near time order), ``random``
(inserted in random order into a rowid table; in PostgreSQL a heap loaded in random order; in MariaDB InnoDB on
its hidden row id, loaded in random order) or ``uuid`` (ids replaced by random UUIDs that key the table: SQLite
``WITHOUT ROWID`` with ``id TEXT PRIMARY KEY``; PostgreSQL a text primary key, rows loaded in random order, no
CLUSTER; MariaDB InnoDB clustered on the UUID primary key).

    python bench/stores.py --profile realistic --sizes 100000,1000000 --engines sqlite,postgresql,mariadb \
        --order uuid
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
PG_DSN = "host=127.0.0.1 user=postgres dbname=postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MARIA = {"host": "127.0.0.1", "port": 3306, "user": "root", "database": "test"}
MARIA_URL = "mariadb://root@127.0.0.1:3306/test"
ORDERS = ("time", "random", "uuid")

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


def _ordered(profile: str, n: int, order: str) -> Iterator[tuple[list[Op], list[Row]]]:
    """The profile's chunks in the physical order asked for: as generated, or every row shuffled (and for
    ``uuid`` each id replaced by a random UUID, the table's key). Seeded: the same store every build."""
    if order == "time":
        yield from _chunks(profile, n)
        return
    ops_all: list[Op] = []
    rows_all: list[Row] = []
    for ops, rows in _chunks(profile, n):
        ops_all += ops
        rows_all += rows
    rng = random.Random(5)
    rng.shuffle(ops_all)
    rng.shuffle(rows_all)
    if order == "uuid":
        ops_all = [(_uuid(rng),) + tuple(op[1:]) for op in ops_all]
        rows_all = [(_uuid(rng),) + tuple(row[1:]) for row in rows_all]
    chunk = 50_000
    for lo in range(0, max(len(ops_all), len(rows_all)), chunk):
        yield ops_all[lo:lo + chunk], rows_all[lo:lo + chunk]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _named(stem: str, order: str, n: int) -> str:
    """``stem-n`` for the time order (the names stores had before orders existed), else ``stem-order-n``."""
    return f"{stem}-{n}" if order == "time" else f"{stem}-{order}-{n}"


def build_sqlite(profile: str, n: int, times: str = "real", order: str = "time") -> Path:
    """A folder with operations.db, audit.db and evidence.toml (built once)."""
    folder = OUT / _named("sqlite" if profile == "tidy" else f"sqlite-{profile}-{times}", order, n)
    if (folder / "evidence.toml").exists():
        return folder / "evidence.toml"
    folder.mkdir(parents=True, exist_ok=True)
    kind = "REAL" if profile == "realistic" and times == "real" else "TEXT"
    key, rowid = ("TEXT PRIMARY KEY", " WITHOUT ROWID") if order == "uuid" else ("TEXT", "")
    ops_db, audit_db = sqlite3.connect(folder / "operations.db"), sqlite3.connect(folder / "audit.db")
    for db in (ops_db, audit_db):
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
    ops_db.execute(f"CREATE TABLE operations (id {key}, occurred_at {kind}, operation TEXT, route TEXT,"
                   f" restaurant_id TEXT, user_id TEXT, target TEXT, request_id TEXT){rowid}")
    audit_db.execute(f"CREATE TABLE staff_audit_logs (id {key}, created_at {kind}, action TEXT, route TEXT,"
                     f" restaurant_id TEXT, user_id TEXT, target TEXT, request_id TEXT, origin TEXT,"
                     f" inserted_at {kind}){rowid}")
    for ops, rows in _ordered(profile, n, order):
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


def _server_tables(profile: str, order: str, n: int) -> tuple[str, str]:
    suffix = ("" if profile == "tidy" else "r") + ("" if order == "time" else f"_{order}")
    return f"bench_ops{suffix}_{n}", f"bench_audit{suffix}_{n}"


def build_postgres(profile: str, n: int, order: str = "time") -> Path:
    """Tables in the local PostgreSQL (timestamptz for the realistic profile) and a config naming them."""
    import psycopg

    folder = OUT / _named("pg" if profile == "tidy" else f"pg-{profile}", order, n)
    ops_t, audit_t = _server_tables(profile, order, n)
    kind = "text" if profile == "tidy" else "timestamptz"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        # Complete when the audit table's time index exists (made after the load): then reuse it, even when
        # another checkout built it (a rebuild there would drop the tables under a run here).
        done = conn.execute("SELECT 1 FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
                            (audit_t, "%(created_at)%")).fetchone()
        if done is None:
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
                for ops, rows in _ordered(profile, n, order):
                    if profile == "realistic":
                        ops, rows = _as_text_times(ops, (1,)), _as_text_times(rows, (1, 9))
                    for op in ops:
                        c_ops.write_row(op)
                    for row in rows:
                        c_audit.write_row(row)
            if order == "uuid":  # keyed by the UUID; rows stay in load (random) order: no CLUSTER
                conn.execute(f"ALTER TABLE {ops_t} ADD PRIMARY KEY (id)")
                conn.execute(f"ALTER TABLE {audit_t} ADD PRIMARY KEY (id)")
            conn.execute(f"CREATE INDEX ON {ops_t}(occurred_at)")
            conn.execute(f"CREATE INDEX ON {audit_t}(created_at)")
            conn.execute(f"ANALYZE {ops_t}")
            conn.execute(f"ANALYZE {audit_t}")
    folder.mkdir(parents=True, exist_ok=True)
    return _config(folder, PG_URL, PG_URL, audit_t, ops_t)


def build_mariadb(profile: str, n: int, order: str = "time") -> Path:
    """InnoDB tables in the local MariaDB (DATETIME(6) in UTC for the realistic profile), bulk-loaded with
    LOAD DATA LOCAL INFILE, and a config naming them. ``uuid`` clusters each table on its UUID primary key
    (rows loaded in key order, which InnoDB keeps whatever the insert order); otherwise no key, so InnoDB
    clusters on its hidden row id, the load order."""
    import pymysql

    folder = OUT / _named(f"maria-{profile}", order, n)
    ops_t, audit_t = _server_tables(profile, order, n)
    kind = "VARCHAR(40)" if profile == "tidy" else "DATETIME(6)"
    key = "VARCHAR(40) PRIMARY KEY" if order == "uuid" else "VARCHAR(40)"
    text = "VARCHAR(255)"
    conn = pymysql.connect(**MARIA, local_infile=True, autocommit=True, charset="utf8mb4")
    try:
        cur = conn.cursor()
        cur.execute("SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE()"
                    " AND table_name = %s AND column_name = 'created_at'", (audit_t,))
        if cur.fetchone()[0] == 0:
            cur.execute(f"DROP TABLE IF EXISTS {ops_t}, {audit_t}")
            cur.execute(f"CREATE TABLE {ops_t} (id {key}, occurred_at {kind}, operation {text}, route {text},"
                        f" restaurant_id {text}, user_id {text}, target {text}, request_id {text})"
                        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
            cur.execute(f"CREATE TABLE {audit_t} (id {key}, created_at {kind}, action {text}, route {text},"
                        f" restaurant_id {text}, user_id {text}, target {text}, request_id {text}, origin {text},"
                        f" inserted_at {kind}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
            folder.mkdir(parents=True, exist_ok=True)
            ops_all, rows_all = [], []
            for ops, rows in _ordered(profile, n, order):
                if profile == "realistic":
                    ops, rows = _as_maria_times(ops, (1,)), _as_maria_times(rows, (1, 9))
                ops_all += ops
                rows_all += rows
            if order == "uuid":  # InnoDB stores rows in key order anyway; loading them so is far quicker
                ops_all.sort(key=lambda r: r[0])
                rows_all.sort(key=lambda r: r[0])
            for table, cols, data in ((ops_t, _OPS_COLS, ops_all), (audit_t, _AUDIT_COLS, rows_all)):
                tsv = folder / f"{table}.tsv"
                with tsv.open("w", encoding="utf-8") as f:
                    for row in data:
                        f.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
                cur.execute(f"LOAD DATA LOCAL INFILE %s INTO TABLE {table} CHARACTER SET utf8mb4"
                            f" FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' ({cols})", (str(tsv),))
                tsv.unlink()
            cur.execute(f"CREATE INDEX ix_{ops_t}_t ON {ops_t}(occurred_at)")
            cur.execute(f"CREATE INDEX ix_{audit_t}_t ON {audit_t}(created_at)")
            cur.execute(f"ANALYZE TABLE {ops_t}, {audit_t}")
            cur.fetchall()
    finally:
        conn.close()
    folder.mkdir(parents=True, exist_ok=True)
    return _config(folder, MARIA_URL, MARIA_URL, audit_t, ops_t)


def _as_maria_times(chunk: list[tuple], positions: tuple[int, ...]) -> list[tuple]:
    """Epoch seconds as the naive UTC text a DATETIME(6) column loads."""
    out = []
    for row in chunk:
        row = list(row)
        for p in positions:
            if row[p] is not None:
                row[p] = datetime.fromtimestamp(row[p], UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        out.append(tuple(row))
    return out


def build(profile: str, engine: str, n: int, times: str = "real", order: str = "time") -> Path:
    if engine == "sqlite":
        return build_sqlite(profile, n, times, order)
    if engine == "mariadb":
        return build_mariadb(profile, n, order)
    return build_postgres(profile, n, order)


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
    parser.add_argument("--order", default="time", help=f"physical order(s), comma-separated: {', '.join(ORDERS)}")
    args = parser.parse_args()
    for order in args.order.split(","):
        if order not in ORDERS:
            parser.error(f"--order: {order!r} is not one of {', '.join(ORDERS)}")
        for engine in args.engines.split(","):
            for n in (int(s) for s in args.sizes.split(",")):
                print(build(args.profile, engine, n, args.times, order), flush=True)


if __name__ == "__main__":
    main()
