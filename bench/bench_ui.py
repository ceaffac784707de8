"""Benchmark the web app: time to first render and to re-render after a filter change.

    python bench/bench_ui.py                                   # the bundled sample
    python bench/bench_ui.py --config bench/out/sqlite-1000000/evidence.toml

Runs the real app script through Streamlit's AppTest (server side: everything but the
browser's drawing). "cold" includes loading and reconciling; "warm" is the same page again
with caches filled, as a second visitor sees it; "filter" is a tenant filter applied.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

APP = str(Path(__file__).resolve().parent.parent / "evidence_app" / "ui" / "app.py")
PAGES = ("app_pages/coverage_gaps.py", "app_pages/replay.py", "app_pages/sources.py")


def timed(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="evidence.toml (default: the bundled sample)")
    args = parser.parse_args()
    if args.config:
        os.environ["EVIDENCE_APP_CONFIG"] = str(Path(args.config).resolve())
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=900)
    cold = timed(at.run)
    assert not at.exception, at.exception
    warm_app = AppTest.from_file(APP, default_timeout=900)
    warm = timed(warm_app.run)
    tenants = warm_app.sidebar.multiselect(key="f_tenant").options
    box = warm_app.sidebar.multiselect(key="f_tenant").set_value([tenants[0]])
    refilter = timed(box.run)
    again = timed(warm_app.run)
    print(f"config: {args.config or 'bundled sample'}")
    print(f"overview first render (cold caches):       {cold:7.2f} s")
    print(f"overview first render (warm caches):       {warm:7.2f} s")
    print(f"re-render after a tenant filter (new view): {refilter:7.2f} s")
    print(f"re-render, same filter again (warm):        {again:7.2f} s")
    for page in PAGES:
        warm_app.switch_page(page)
        first = timed(warm_app.run)
        second = timed(warm_app.run)
        print(f"{page:<40} first {first:6.2f} s   warm {second:6.2f} s")


if __name__ == "__main__":
    main()
