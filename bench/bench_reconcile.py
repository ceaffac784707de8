"""Benchmark: load + reconcile end to end vs a bare SELECT of the same columns (same driver).

    python bench/bench_reconcile.py                      # 100k and 1M operations, SQLite + PostgreSQL
    python bench/bench_reconcile.py --sizes 100000       # just one size
    python bench/bench_reconcile.py --sizes 10000000     # 10 M when asked (takes a while)
    python bench/bench_reconcile.py --engines sqlite
    python bench/bench_reconcile.py --profile realistic   # 2,000 tenants, 5,000 operators, distinct targets …

Stores are built once under bench/out/ by bench/stores.py (see there for the two profiles).

Each measurement runs in its own process so its peak RSS is its own. Prints one line per run:
rows/s, the ratio to the bare read, peak memory, and (last two columns) the driver's own cursor
read with nothing kept — the floor no reader can beat — and the ratio to it.
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
    parser.add_argument("--child", nargs=3, metavar=("KIND", "CONFIG", "PROFILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    print(f"{'engine':<11}{'operations':>11}{'rows read':>11}{'bare s':>9}{'recon s':>9}{'ratio':>7}"
          f"{'rows/s':>11}{'bare MB':>9}{'recon MB':>9}{'dbapi s':>9}{'ratio':>7}")
    for engine in args.engines.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            cfg = build(args.profile, engine, n, args.times)
            bare = min((run_child("bare", cfg, args.profile) for _ in range(2)), key=lambda r: r["seconds"])
            rec = min((run_child("reconcile", cfg, args.profile) for _ in range(2)), key=lambda r: r["seconds"])
            floor = min((run_child("dbapi", cfg, args.profile) for _ in range(2)), key=lambda r: r["seconds"])
            print(f"{engine:<11}{n:>11,}{rec['rows']:>11,}{bare['seconds']:>9.2f}{rec['seconds']:>9.2f}"
                  f"{rec['seconds'] / bare['seconds']:>7.2f}{rec['rows'] / rec['seconds']:>11,.0f}"
                  f"{bare['peak_mb']:>9.0f}{rec['peak_mb']:>9.0f}"
                  f"{floor['seconds']:>9.2f}{rec['seconds'] / floor['seconds']:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
