"""Benchmark: build a signed evidence pack; print time by stage, size, pages, and verify time.

    python bench/bench_pack.py                    # 90 days of the bundled sample
    python bench/bench_pack.py --profile realistic --size 1000000    # a bench/stores.py store, its 30 days

With a store, the bare read of the same columns (as bench_reconcile.py measures it) is timed in the same
run, and the ratio printed.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from stores import build, period  # noqa: E402

from evidence_app.config.settings import load_config  # noqa: E402
from evidence_app.evidence.build import build_pack  # noqa: E402
from evidence_app.evidence.sign import SigningOptions, keygen  # noqa: E402
from evidence_app.evidence.verify import verify_pack  # noqa: E402
from evidence_app.reconcile import Period, Scope  # noqa: E402


def page_count(pdf: bytes) -> int:
    """Pages of the final file, read from its page tree once: an incremental update (the signed page rewritten
    in the last revision) leaves an older copy of a page object in the bytes, which a text search counts twice."""
    return int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("tidy", "realistic"), help="a bench store instead of the sample")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--times", choices=("real", "iso"), default="real", help="SQLite time columns (realistic)")
    args = parser.parse_args()
    if args.profile:
        cfg = build(args.profile, args.engine, args.size, args.times)
        first, days = period(args.profile)
        span = Period(first.date(), first.date() + timedelta(days=days - 1))
        times = f", {args.times} times" if args.engine == "sqlite" and args.profile == "realistic" else ""
        label = f"{days}-day pack on the {args.profile} {args.engine} store of {args.size:,} operations{times}"
    else:
        cfg, span, label = None, Period(date(2026, 8, 1), date(2026, 10, 29)), "90-day pack on the sample"
    folder = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    key, cert = keygen(folder / "id")
    starts: list[tuple[str, float]] = []

    def step(name: str) -> None:  # called as each stage begins
        starts.append((name, time.perf_counter()))

    t0 = time.perf_counter()
    built = build_pack(load_config(cfg), span, Scope(),
                       SigningOptions(key=key, cert=cert, passphrase_env="BENCH_NO_PASSPHRASE"),
                       datetime.combine(span.end + timedelta(days=1), datetime.min.time(), timezone.utc),
                       out=folder / "pack.pdf", step=step)
    end = time.perf_counter()
    total = end - t0
    stages = {name: (starts[i + 1][1] if i + 1 < len(starts) else end) - at for i, (name, at) in enumerate(starts)}
    t1 = time.perf_counter()
    ok = verify_pack(built.data, Path(cert)).ok
    verify_s = time.perf_counter() - t1
    pages = page_count(built.data)
    print(f"{label}: {total:.2f} s to build, {len(built.data) / 2**20:,.1f} MiB, {pages} pages")
    print("  stage times: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items() if k != "done"))
    print(f"  verify: {verify_s:.2f} s, {'passed' if ok else 'FAILED'}")
    if cfg is not None:
        out = subprocess.run([sys.executable, str(HERE / "bench_reconcile.py"), "--child", "bare", str(cfg),
                              args.profile], capture_output=True, text=True, check=True)
        bare = float(out.stdout.split('"seconds": ')[1].split(",")[0])
        print(f"  bare read of the same columns: {bare:.2f} s; pack / bare = {total / bare:.2f}")


if __name__ == "__main__":
    main()
