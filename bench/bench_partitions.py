"""Peak memory and time of the reconciliation in 1 and in N partitions (issue 22), on realistic SQLite stores.

Each measurement runs in a fresh child process (peak RSS is the process's own high-water mark: ru_maxrss), reading
the whole span of the store and building the coverage table by day and operator, as the CLI does. The stores are
built once under bench/out/ by bench/stores.py (the time it took is printed; a store already there is reused).

    python bench/bench_partitions.py --sizes 1000000 --partitions 1,16
    python bench/bench_partitions.py --sizes 1000000,10000000 --partitions 1,16

``--command coverage`` runs the ``coverage`` command itself instead (``--by day,operator --format csv`` over the same
span, stdout to a file whose SHA-256 is compared across partition counts): partitioned, its aggregate path. Besides
the child's ru_maxrss, it reports the peak of the routing pre-pass and the peak after it (the partitions and the
client's sums), by reading the process's high-water mark when the pre-pass returns and then resetting it
(``/proc/self/clear_refs``).

    python bench/bench_partitions.py --sizes 10000000 --partitions 16 --command prepass   # the routing pre-pass alone

``--command prepass`` (or ``--prepass-only``) measures the routing pre-pass (``compute.routing.route``) by itself in each child: its time,
the process's peak, and the resident size before it started (the interpreter and the imported modules), so the
pre-pass's own share is the difference.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def measure(cfg: str, partitions: int) -> dict:
    """One run: config → (Dataset, Reconciliation) in ``partitions`` → the day × operator coverage table."""
    from stores import period as span

    from evidence_app.compute import evaluate
    from evidence_app.config.settings import load_config
    from evidence_app.reconcile import Period
    from evidence_app.reconcile.coverage import coverage_table, totals

    config = load_config(cfg)
    first, days = span("realistic")
    window = Period(first.date(), first.date() + timedelta(days=days - 1))
    t0 = time.perf_counter()
    data, recon = evaluate(config, window, partitions=partitions)
    coverage_table(recon, ["day", "operator"])
    seconds = time.perf_counter() - t0
    t = totals(recon)
    return {"partitions": partitions, "seconds": round(seconds, 1), "rows": len(data.operations) + len(data.audit),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "expected": t.expected, "logged": t.logged, "missing": t.missing}


def measure_prepass(cfg: str, partitions: int) -> dict:
    """One routing pre-pass: config → the plan and the specs of ``partitions`` (nothing reconciled)."""
    from stores import period as span

    from evidence_app.compute.routing import route
    from evidence_app.config.settings import load_config
    from evidence_app.reconcile import Period

    config = load_config(cfg)
    first, days = span("realistic")
    window = Period(first.date(), first.date() + timedelta(days=days - 1))
    before = _resident_mb()
    t0 = time.perf_counter()
    routing = route(config, window, partitions)
    seconds = time.perf_counter() - t0
    plan = routing.plan
    return {"partitions": partitions, "seconds": round(seconds, 1), "rows": sum(plan.rows),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "before_mb": before,
            "groups": plan.groups, "merged_groups": plan.merged_groups,
            "duplicates": sum(len(v) for v in routing.duplicate_ids.values()),
            "top_up": sum(any(s.top_up) for s in routing.specs), "split": plan.split_tenants,
            "largest": max(plan.rows, default=0),
            "holding_pieces": sum(1 for p in plan.pieces if p)}


def _resident_mb() -> int:
    """The process's resident size now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024)
    return 0


def measure_command(cfg: str, partitions: int) -> dict:
    """One run of ``evidence-app coverage`` in this (fresh) process: time, peaks before and after the pre-pass."""
    import hashlib
    import io
    from contextlib import redirect_stdout

    from stores import period as span

    from evidence_app.cli import main as cli
    from evidence_app.compute import run

    first, days = span("realistic")
    start, end = first.date(), first.date() + timedelta(days=days - 1)
    marks: dict[str, int] = {}
    routed = run.route

    def route(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the pre-pass, its peak noted and then reset
        began = time.perf_counter()
        found = routed(*args, **kwargs)
        marks["prepass_s"] = round(time.perf_counter() - began, 1)
        marks["prepass_mb"] = _high_water_mb()
        Path("/proc/self/clear_refs").write_text("5")
        return found

    run.route = route
    out = io.StringIO()
    t0 = time.perf_counter()
    with redirect_stdout(out):
        try:
            cli(["coverage", "--config", cfg, "--start", start.isoformat(), "--end", end.isoformat(), "--by",
                 "day,operator", "--format", "csv", "--partitions", str(partitions)], standalone_mode=False)
        except SystemExit as exc:
            assert not exc.code, exc.code
    seconds = time.perf_counter() - t0
    text = out.getvalue()
    lines = list(csv.DictReader(io.StringIO(text)))
    expected = sum(int(line["expected"]) for line in lines)
    return {"partitions": partitions, "seconds": round(seconds, 1),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "after_prepass_mb": _high_water_mb() if marks else None, **marks,
            "sha256": hashlib.sha256(text.encode()).hexdigest()[:16], "lines": len(lines), "expected": expected}


def _high_water_mb() -> int:
    """This process's resident high-water mark (VmHWM), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_child(cfg: Path, partitions: int, command: str = "evaluate") -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(cfg), str(partitions), "--command", command],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--partitions", default="1,16")
    parser.add_argument("--command", choices=("evaluate", "coverage", "prepass"), default="evaluate",
                        help="evaluate: (Dataset, Reconciliation) then the table, as before; coverage: the command; "
                             "prepass: the routing pre-pass alone")
    parser.add_argument("--prepass-only", action="store_true", help="the same as --command prepass")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "PARTITIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepass_only:
        args.command = "prepass"
    if args.child:
        how = {"coverage": measure_command, "prepass": measure_prepass}.get(args.command, measure)
        print(json.dumps(how(args.child[0], int(args.child[1]))))
        return
    from stores import build

    for n in (int(s) for s in args.sizes.split(",")):
        t0 = time.perf_counter()
        cfg = build("realistic", "sqlite", n)
        print(f"store of {n:,} operations: {time.perf_counter() - t0:.0f} s to build (0 s: built before)", flush=True)
        results = [run_child(cfg, int(p), args.command) for p in args.partitions.split(",")]
        if args.command == "coverage":
            for r in results:
                phases = (f" (pre-pass {r['prepass_s']:.1f} s, {r['prepass_mb']:,} MB; after it "
                          f"{r['after_prepass_mb']:,} MB)"
                          if r.get("prepass_mb") else "")
                print(f"  {r['partitions']:>3} partitions: coverage {r['seconds']:>7.1f} s, peak {r['peak_mb']:,} MB"
                      f"{phases}, {r['lines']:,} lines, expected {r['expected']:,}, stdout SHA-256 {r['sha256']}",
                      flush=True)
            assert len({r["sha256"] for r in results}) == 1, "outputs differ!"
            continue
        if args.command == "prepass":
            for r in results:
                print(f"  pre-pass for {r['partitions']:>3} partitions: {r['seconds']:>7.1f} s, "
                      f"peak {r['peak_mb']:,} MB ({r['before_mb']:,} MB before it; {r['rows']:,} records routed), "
                      f"{r['groups']:,} groups "
                      f"({r['merged_groups']:,} of several tenants), {r['duplicates']:,} duplicate ids, "
                      f"{r['top_up']} partitions with a top-up; {r['split']} tenant(s) split into pieces, held by "
                      f"{r['holding_pieces']} partitions; the largest partition {r['largest']:,} records", flush=True)
            assert len({(r["rows"], r["duplicates"]) for r in results}) == 1, "routing differs!"
            continue
        for r in results:
            per_row = r["peak_mb"] * 1024 * 1024 / max(r["rows"], 1)
            print(f"  {r['partitions']:>3} partitions: {r['seconds']:>7.1f} s, peak {r['peak_mb']:,} MB "
                  f"({per_row:,.0f} bytes per row read, {r['rows']:,} rows), expected {r['expected']:,}, "
                  f"logged {r['logged']:,}, missing {r['missing']:,}", flush=True)
        assert len({(r["expected"], r["logged"], r["missing"]) for r in results}) == 1, "numbers differ!"


if __name__ == "__main__":
    main()
