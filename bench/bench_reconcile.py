"""Benchmark: load + reconcile end to end vs a bare SELECT of the same columns (same driver).

    python bench/bench_reconcile.py                      # 100k and 1M operations, SQLite + PostgreSQL
    python bench/bench_reconcile.py --sizes 100000       # just one size
    python bench/bench_reconcile.py --sizes 10000000     # 10 M when asked (takes a while)
    python bench/bench_reconcile.py --engines sqlite

Each measurement runs in its own process so its peak RSS is its own. Prints one line per run:
rows/s, the ratio to the bare read, peak memory, and (last two columns) the driver's own cursor
read with nothing kept — the floor no reader can beat — and the ratio to it.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
DAYS = 90
PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _rows(n: int, seed: int = 7):
    """Synthetic operations and audit rows: 90 % live, 4 % replayed, 6 % missing, a few orphans."""
    rng = random.Random(seed)
    span = DAYS * 86400
    for i in range(n):
        t = START + timedelta(seconds=span * i / n + rng.random())
        op = ("op-%08d" % i, t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), f"action_{i % 23}", f"/api/r{i % 23}",
              f"t{i % 7}", f"u{i % 12}", f'["m-{i % 997}"]', f"req-{i:08d}" if i % 2 else None)
        r = rng.random()
        row = None
        if r < 0.90:
            row = ("al-%08d" % i, (t + timedelta(milliseconds=300)).strftime("%Y-%m-%d %H:%M:%S"), op[2], op[3],
                   op[4], op[5], op[6], op[7], None, None)
        elif r < 0.94:
            row = ("al-%08d" % i, t.strftime("%Y-%m-%d %H:%M:%S"), op[2], op[3], op[4], op[5], op[6], op[7],
                   "replay", (t + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"))
        yield op, row


def build_sqlite(n: int) -> Path:
    folder = OUT / f"sqlite-{n}"
    if (folder / "evidence.toml").exists():
        return folder / "evidence.toml"
    folder.mkdir(parents=True, exist_ok=True)
    ops_db, audit_db = sqlite3.connect(folder / "operations.db"), sqlite3.connect(folder / "audit.db")
    ops_db.execute("CREATE TABLE operations (id TEXT, occurred_at TEXT, operation TEXT, route TEXT,"
                   " restaurant_id TEXT, user_id TEXT, target TEXT, request_id TEXT)")
    audit_db.execute("CREATE TABLE staff_audit_logs (id TEXT, created_at TEXT, action TEXT, route TEXT,"
                     " restaurant_id TEXT, user_id TEXT, target TEXT, request_id TEXT, origin TEXT, inserted_at TEXT)")
    ops, rows = [], []
    for op, row in _rows(n):
        ops.append(op)
        if row:
            rows.append(row)
        if len(ops) >= 100_000:
            ops_db.executemany("INSERT INTO operations VALUES (?,?,?,?,?,?,?,?)", ops)
            audit_db.executemany("INSERT INTO staff_audit_logs VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            ops, rows = [], []
    ops_db.executemany("INSERT INTO operations VALUES (?,?,?,?,?,?,?,?)", ops)
    audit_db.executemany("INSERT INTO staff_audit_logs VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    ops_db.execute("CREATE INDEX ix_ops_t ON operations(occurred_at)")
    audit_db.execute("CREATE INDEX ix_audit_t ON staff_audit_logs(created_at)")
    for db in (ops_db, audit_db):
        db.commit()
        db.close()
    return _config(folder, "sqlite:///audit.db", "sqlite:///operations.db", "staff_audit_logs", "operations")


def build_postgres(n: int) -> Path:
    import psycopg

    folder = OUT / f"pg-{n}"
    ops_t, audit_t = f"bench_ops_{n}", f"bench_audit_{n}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (audit_t,)).fetchone()[0]
        if exists is None or not (folder / "evidence.toml").exists():
            conn.execute(f"DROP TABLE IF EXISTS {ops_t}, {audit_t}")
            conn.execute(f"CREATE TABLE {ops_t} (id text, occurred_at timestamptz, operation text, route text,"
                         " restaurant_id text, user_id text, target text, request_id text)")
            conn.execute(f"CREATE TABLE {audit_t} (id text, created_at text, action text, route text,"
                         " restaurant_id text, user_id text, target text, request_id text, origin text,"
                         " inserted_at text)")
            # One COPY per connection: a connection cannot run two COPYs at once.
            with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as other, \
                    conn.cursor().copy(f"COPY {ops_t} FROM STDIN") as c_ops, \
                    other.cursor().copy(f"COPY {audit_t} FROM STDIN") as c_audit:
                for op, row in _rows(n):
                    c_ops.write_row(op)
                    if row:
                        c_audit.write_row(row)
            conn.execute(f"CREATE INDEX ON {ops_t}(occurred_at)")
            conn.execute(f"CREATE INDEX ON {audit_t}(created_at)")
            conn.execute(f"ANALYZE {ops_t}")
            conn.execute(f"ANALYZE {audit_t}")
    folder.mkdir(parents=True, exist_ok=True)
    return _config(folder, PG_URL, PG_URL, audit_t, ops_t)


def _config(folder: Path, audit_url: str, ops_url: str, audit_t: str, ops_t: str) -> Path:
    cfg = folder / "evidence.toml"
    cfg.write_text(f'[audit]\nurl = "{audit_url}"\ntable = "{audit_t}"\n'
                   f'[operations]\nurl = "{ops_url}"\ntable = "{ops_t}"\n')
    return cfg


# ------------------------------------------------------------------ measurements (child process)


def measure(kind: str, cfg: str) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import sqlalchemy as sa

    from evidence_app.config import load_config
    from evidence_app.ingest.sources import (
        FETCH_CHUNK,
        _compiled,
        _streaming_cursor,
        _table,
        open_store,
    )
    from evidence_app.pipeline import evaluate
    from evidence_app.reconcile import Period
    from evidence_app.reconcile.coverage import coverage_table

    config = load_config(cfg)
    period = Period(START.date(), START.date() + timedelta(days=DAYS - 1))
    t0 = time.perf_counter()
    rows = 0
    if kind == "bare":
        for store_cfg in (config.operations, config.audit):
            store = open_store(store_cfg)
            cols = [store_cfg.columns[c] for c in sorted(store.present)]
            tbl = _table(store_cfg, cols)
            with store.engine.connect() as conn:
                res = conn.execution_options(stream_results=True, yield_per=FETCH_CHUNK).execute(
                    sa.select(*tbl.c))
                for part in res.partitions(FETCH_CHUNK):
                    rows += len(part)
    elif kind == "dbapi":  # the floor: the driver's own cursor, no SQLAlchemy rows, nothing kept
        for store_cfg in (config.operations, config.audit):
            store = open_store(store_cfg)
            cols = [store_cfg.columns[c] for c in sorted(store.present)]
            with store.engine.connect() as conn:
                sql, args = _compiled(sa.select(*_table(store_cfg, cols).c), conn.dialect)
                cursor = _streaming_cursor(conn.connection.driver_connection, conn.dialect.name)
                cursor.execute(sql, args)
                while chunk := cursor.fetchmany(FETCH_CHUNK):
                    rows += len(chunk)
                cursor.close()
    else:
        data, recon = evaluate(config, period)
        coverage_table(recon, ["day", "operator"])
        rows = len(data.operations) + len(data.audit)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"kind": kind, "seconds": seconds, "rows": rows, "peak_mb": peak_mb}


def run_child(kind: str, cfg: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(cfg)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    print(f"{'engine':<11}{'operations':>11}{'rows read':>11}{'bare s':>9}{'recon s':>9}{'ratio':>7}"
          f"{'rows/s':>11}{'bare MB':>9}{'recon MB':>9}{'dbapi s':>9}{'ratio':>7}")
    for engine in args.engines.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            cfg = build_sqlite(n) if engine == "sqlite" else build_postgres(n)
            bare = min((run_child("bare", cfg) for _ in range(2)), key=lambda r: r["seconds"])
            rec = min((run_child("reconcile", cfg) for _ in range(2)), key=lambda r: r["seconds"])
            floor = min((run_child("dbapi", cfg) for _ in range(2)), key=lambda r: r["seconds"])
            print(f"{engine:<11}{n:>11,}{rec['rows']:>11,}{bare['seconds']:>9.2f}{rec['seconds']:>9.2f}"
                  f"{rec['seconds'] / bare['seconds']:>7.2f}{rec['rows'] / rec['seconds']:>11,.0f}"
                  f"{bare['peak_mb']:>9.0f}{rec['peak_mb']:>9.0f}"
                  f"{floor['seconds']:>9.2f}{rec['seconds'] / floor['seconds']:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
