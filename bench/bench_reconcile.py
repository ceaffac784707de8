"""Benchmark: load + reconcile end to end vs the bare driver reading the same columns (issue 21's baseline).

    python bench/bench_reconcile.py                      # 100k and 1M operations, SQLite + PostgreSQL
    python bench/bench_reconcile.py --sizes 100000       # just one size
    python bench/bench_reconcile.py --sizes 10000000     # 10 M when asked (takes a while)
    python bench/bench_reconcile.py --engines sqlite
    python bench/bench_reconcile.py --profile realistic   # 2,000 tenants, 5,000 operators, distinct targets …
    python bench/bench_reconcile.py --profile realistic --order uuid --engines sqlite,postgresql,mariadb
    python bench/bench_reconcile.py --profile realistic --order random --plan   # the windowed read, scan choice on/off

Stores are built once under bench/out/ by bench/stores.py (see there for the two profiles).

Each measurement runs in its own process so its peak RSS is its own. Prints one line per run:
rows/s, the ratio to the bare read, peak memory, and (last two columns) the driver's own cursor
read with nothing kept — the floor no reader can beat — and the ratio to it.

The bare read is issue 21's: the bare driver (``sqlite3``, psycopg, PyMySQL) reading the same columns of both
tables, whole, in fetchmany chunks, nothing kept; ``coverage`` (load + reconcile + the coverage table) is quoted
against it. Runs alternate (bare, coverage, bare, coverage …) and the best of each is kept. ``--plan`` measures
instead the windowed read of both tables (select_frame for the period) with the scan choice of
evidence_app/ingest/plan.py and without it (the planner's own plan), alternating.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stores import build
from stores import period as span

# ------------------------------------------------------------------ measurements (child process)


def measure(kind: str, cfg: str, profile: str) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import sqlalchemy as sa

    from evidence_app.assess.pipeline import evaluate
    from evidence_app.config.settings import load_config
    from evidence_app.ingest.sources import (
        FETCH_CHUNK,
        _compiled,
        _streaming_cursor,
        _table,
        open_store,
    )
    from evidence_app.reconcile import Period
    from evidence_app.reconcile.coverage import coverage_table

    config = load_config(cfg)
    first, days = span(profile)
    period = Period(first.date(), first.date() + timedelta(days=days - 1))
    if kind == "raw":  # issue 21's baseline: the bare driver, same columns, whole tables, nothing kept
        targets = []
        for store_cfg in (config.operations, config.audit):
            store = open_store(store_cfg)
            targets.append((store_cfg, [store_cfg.columns[c] for c in sorted(store.present)]))
            store.engine.dispose()
        t0 = time.perf_counter()
        rows = sum(_raw_read(store_cfg, cols, Path(cfg).parent) for store_cfg, cols in targets)
        return {"kind": kind, "seconds": time.perf_counter() - t0, "rows": rows,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if kind in ("window", "window-noplan"):  # the windowed read of both tables, with and without the scan choice
        from evidence_app.ingest import sources
        from evidence_app.ingest.dataset import read_window
        from evidence_app.ingest.plan import Plan

        if kind == "window-noplan":
            sources.choose = lambda *_: Plan(False, "the planner's own plan (bench: scan choice off)")
        window = read_window(config, period)
        stores = [open_store(c) for c in (config.operations, config.audit)]
        t0 = time.perf_counter()
        rows = sum(len(sources.select_frame(s, f, window)) for s, f in zip(stores, ("occurred_at", "created_at")))
        return {"kind": kind, "seconds": time.perf_counter() - t0, "rows": rows,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
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


def _raw_read(store_cfg, columns: list[str], folder: Path) -> int:  # noqa: ANN001 - a StoreConfig
    """Rows of the whole table read by the bare driver in fetchmany chunks (issue 21's baseline)."""
    url = store_cfg.url
    sql = f"SELECT {', '.join(columns)} FROM {store_cfg.table}"
    rows = 0
    backend = url.get_backend_name()
    if backend == "sqlite":
        import sqlite3

        path = Path(url.database)
        conn = sqlite3.connect(f"file:{path if path.is_absolute() else folder / path}?mode=ro", uri=True)
        cursor = conn.execute(sql)
    elif backend == "postgresql":
        import psycopg

        conn = psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, dbname=url.database)
        cursor = conn.cursor(name="bare")
        cursor.execute(sql)
    else:
        import pymysql
        import pymysql.cursors

        conn = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, database=url.database,
                               charset="utf8mb4")
        cursor = conn.cursor(pymysql.cursors.SSCursor)
        cursor.execute(sql)
    while chunk := cursor.fetchmany(50_000):
        rows += len(chunk)
    cursor.close()
    conn.close()
    return rows


def run_child(kind: str, cfg: Path, profile: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(cfg), profile], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--profile", choices=("tidy", "realistic"), default="tidy")
    parser.add_argument("--times", choices=("real", "iso"), default="real", help="SQLite time columns (realistic)")
    parser.add_argument("--order", default="time", help="physical order(s) of the rows: time, random, uuid")
    parser.add_argument("--runs", type=int, default=2, help="alternating runs of each measurement (best kept)")
    parser.add_argument("--plan", action="store_true", help="the windowed read with and without the scan choice")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "CONFIG", "PROFILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    if args.plan:
        _plan_table(args)
        return
    print(f"{'engine':<11}{'order':<7}{'operations':>11}{'rows read':>11}{'raw s':>8}{'recon s':>9}{'ratio':>7}"
          f"{'rows/s':>11}{'raw MB':>8}{'recon MB':>9}{'sa s':>7}{'ratio':>7}{'dbapi s':>9}{'ratio':>7}")
    for order in args.order.split(","):
        for engine in args.engines.split(","):
            for n in (int(s) for s in args.sizes.split(",")):
                cfg = build(args.profile, engine, n, args.times, order)
                got: dict[str, list[dict]] = {"raw": [], "reconcile": [], "bare": [], "dbapi": []}
                for _ in range(args.runs):  # alternate: a noisy moment hits both sides alike
                    for kind in got:
                        got[kind].append(run_child(kind, cfg, args.profile))
                raw, rec, bare, floor = (min(got[k], key=lambda r: r["seconds"]) for k in got)
                print(f"{engine:<11}{order:<7}{n:>11,}{rec['rows']:>11,}{raw['seconds']:>8.2f}{rec['seconds']:>9.2f}"
                      f"{rec['seconds'] / raw['seconds']:>7.2f}{rec['rows'] / rec['seconds']:>11,.0f}"
                      f"{raw['peak_mb']:>8.0f}{rec['peak_mb']:>9.0f}{bare['seconds']:>7.2f}"
                      f"{rec['seconds'] / bare['seconds']:>7.2f}{floor['seconds']:>9.2f}"
                      f"{rec['seconds'] / floor['seconds']:>7.2f}", flush=True)


def _plan_table(args: argparse.Namespace) -> None:
    """The windowed read of both tables with the scan choice and without it, alternating, per order and engine."""
    print(f"{'engine':<11}{'order':<7}{'operations':>11}{'rows':>11}{'plan s':>8}{'no-plan s':>10}{'ratio':>7}"
          f"{'raw s':>7}{'plan/raw':>9}", flush=True)
    for order in args.order.split(","):
        for engine in args.engines.split(","):
            for n in (int(s) for s in args.sizes.split(",")):
                cfg = build(args.profile, engine, n, args.times, order)
                got: dict[str, list[dict]] = {"window": [], "window-noplan": [], "raw": []}
                for _ in range(args.runs):
                    for kind in got:
                        got[kind].append(run_child(kind, cfg, args.profile))
                on, off, raw = (min(got[k], key=lambda r: r["seconds"]) for k in got)
                print(f"{engine:<11}{order:<7}{n:>11,}{on['rows']:>11,}{on['seconds']:>8.2f}{off['seconds']:>10.2f}"
                      f"{on['seconds'] / off['seconds']:>7.2f}{raw['seconds']:>7.2f}"
                      f"{on['seconds'] / raw['seconds']:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
