"""Benchmark: build a signed 90-day evidence pack on the bundled sample; print time, size and pages.

    python bench/bench_pack.py
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evidence_app.config import load_config  # noqa: E402
from evidence_app.evidence.build import build_pack  # noqa: E402
from evidence_app.evidence.sign import SigningOptions, keygen  # noqa: E402
from evidence_app.evidence.verify import verify_pack  # noqa: E402
from evidence_app.reconcile import Period, Scope  # noqa: E402


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    key, cert = keygen(folder / "id")
    stages: dict[str, float] = {}
    last = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        stages[name] = now - last[0]
        last[0] = now

    t0 = time.perf_counter()
    built = build_pack(load_config(None), Period(date(2026, 8, 1), date(2026, 10, 29)), Scope(),
                       SigningOptions(key=key, cert=cert, passphrase_env="BENCH_NO_PASSPHRASE"),
                       datetime(2026, 10, 30, tzinfo=timezone.utc), out=folder / "pack.pdf", step=step)
    total = time.perf_counter() - t0
    t1 = time.perf_counter()
    ok = verify_pack(built.data).ok
    verify_s = time.perf_counter() - t1
    pages = len(re.findall(rb"/Type\s*/Page[^s]", built.data))
    print(f"90-day pack on the sample: {total:.2f} s to build, {len(built.data) / 1024:,.0f} KiB, {pages} pages")
    print("  stage times: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items() if k != "done"))
    print(f"  verify: {verify_s:.2f} s, {'passed' if ok else 'FAILED'}")


if __name__ == "__main__":
    main()
