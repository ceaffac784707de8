"""Lists of stores (issue 22: one D1 database per tenant): time and peak memory of reading a realistic store split
into K per-tenant-group D1 dumps (or SQLite files), against the same rows in one store.

The union store is bench/stores.py's realistic SQLite store (built once under bench/out/); its tenants are dealt
round-robin into K entries of ``[[audit.stores]]`` / ``[[operations.stores]]`` (each entry keeps the tenant column
and names its tenants), written once under bench/out/. Each measurement runs in a fresh child process (peak RSS is
its own): the whole span, the day × operator coverage table, as the CLI does.

    python bench/bench_store_lists.py --size 100000 --stores 64 --kind d1 --partitions 1,16,default
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def measure(cfg: str, partitions: str) -> dict:
    """One run: config → (Dataset, Reconciliation) → the day × operator coverage table."""
    from dataclasses import replace

    from stores import period as span

    from evidence_app.compute.configured import evaluate_configured
    from evidence_app.config.compute import ComputeConfig
    from evidence_app.config.settings import load_config
    from evidence_app.reconcile import Period
    from evidence_app.reconcile.coverage import coverage_table, totals

    config = load_config(cfg)
    if partitions != "default":
        config = replace(config, compute=ComputeConfig(partitions=int(partitions)))
    first, days = span("realistic")
    window = Period(first.date(), first.date() + timedelta(days=days - 1))
    t0 = time.perf_counter()
    data, recon = evaluate_configured(config, window)
    coverage_table(recon, ["day", "operator"])
    seconds = time.perf_counter() - t0
    t = totals(recon)
    return {"partitions": config.compute.partitions, "seconds": round(seconds, 1),
            "rows": len(data.operations) + len(data.audit),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "expected": t.expected, "logged": t.logged, "replayed": t.replayed, "missing": t.missing}


def split(union_cfg: Path, k: int, kind: str) -> Path:
    """The union's tenants dealt round-robin (sorted) into ``k`` entries per side, as D1 dumps or SQLite files."""
    folder = union_cfg.parent.parent / f"{union_cfg.parent.name}-lists-{k}-{kind}"
    cfg = folder / "evidence.toml"
    if cfg.exists():
        return cfg
    folder.mkdir(parents=True, exist_ok=True)
    text = []
    for side, table, db in (("operations", "operations", "operations.db"), ("audit", "staff_audit_logs", "audit.db")):
        src = sqlite3.connect(union_cfg.parent / db)
        tenants = [t for (t,) in src.execute(f"SELECT DISTINCT restaurant_id FROM {table} ORDER BY 1")]
        schema = src.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
        text.append(f'[{side}]\ntable = "{table}"\n')
        for i in range(k):
            mine = tenants[i::k]
            if not mine:
                continue
            out = sqlite3.connect(":memory:")
            out.execute(schema)
            marks = ",".join("?" * len(mine))
            rows = src.execute(f"SELECT * FROM {table} WHERE restaurant_id IN ({marks})", mine).fetchall()
            out.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)
            out.commit()
            name = f"{side}-{i:04d}"
            if kind == "d1":
                (folder / f"{name}.sql").write_text("\n".join(out.iterdump()) + "\n", encoding="utf-8")
                where = f'd1_dump = "{name}.sql"'
            else:
                out.execute(f"VACUUM INTO '{folder / (name + '.db')}'")
                where = f'url = "sqlite:///{name}.db"'
            out.close()
            text.append(f"[[{side}.stores]]\ntenants = {json.dumps(mine)}\n{where}\n")
        src.close()
    cfg.write_text("\n".join(text), encoding="utf-8")
    return cfg


def run_child(cfg: Path, partitions: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(cfg), partitions], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--stores", type=int, default=64, help="entries per list")
    parser.add_argument("--kind", choices=("d1", "sqlite"), default="d1")
    parser.add_argument("--partitions", default="1,16,default")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "PARTITIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1])))
        return
    from stores import build

    t0 = time.perf_counter()
    union = build("realistic", "sqlite", args.size)
    t1 = time.perf_counter()
    lists = split(union, args.stores, args.kind)
    t2 = time.perf_counter()
    print(f"union store of {args.size:,} operations: {t1 - t0:.0f} s to build; split into {args.stores} "
          f"{args.kind} stores per side: {t2 - t1:.0f} s (0 s: built before)", flush=True)
    results = [("union, 1 pass", run_child(union, "1"))]
    results += [(f"lists, {p}", run_child(lists, p)) for p in args.partitions.split(",")]
    for label, r in results:
        print(f"  {label:<16} {r['partitions']:>4} partitions: {r['seconds']:>7.1f} s, peak {r['peak_mb']:,} MB, "
              f"{r['rows']:,} rows, expected {r['expected']:,}, logged {r['logged']:,}, missing {r['missing']:,}",
              flush=True)
    numbers = {(r["expected"], r["logged"], r["replayed"], r["missing"]) for _, r in results}
    assert len(numbers) == 1, f"numbers differ: {numbers}"


if __name__ == "__main__":
    main()
