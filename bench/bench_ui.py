"""Benchmark the web app: every figure issue 10 asks for, in one run, next to a bare read of the same columns.

    python bench/bench_ui.py                                                    # the bundled sample
    python bench/bench_ui.py --config bench/out/sqlite-realistic-real-1000000/evidence.toml

Runs the real app script through Streamlit's AppTest (server side: everything but the browser's drawing).
"cold" is the first visitor on a fresh server with no snapshot (loading, reconciling, the page); "second
visitor" a new session on the warm server; "filter" a tenant filter applied; "restart" clears every Streamlit
cache (what a server restart does to the app's memory) and renders again, served from the snapshot once the
sources' fingerprints match. The snapshot folder is a private temporary one ($XDG_CACHE_HOME), removed after.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path

APP = str(Path(__file__).resolve().parent.parent / "evidence_app" / "ui" / "app.py")
PAGES = ("app_pages/coverage_gaps.py", "app_pages/replay.py", "app_pages/remediation.py", "app_pages/sources.py")


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bare_read(config_path: str) -> float:
    """SELECT of the needed columns from both stores through the same driver, nothing kept (as bench_reconcile)."""
    import sqlalchemy as sa

    from evidence_app.config.settings import load_config
    from evidence_app.ingest.sources import FETCH_CHUNK, _table, open_store

    config = load_config(config_path)

    def run() -> None:
        for store_cfg in (config.operations, config.audit):
            store = open_store(store_cfg)
            tbl = _table(store_cfg, [store_cfg.columns[c] for c in sorted(store.present)])
            with store.engine.connect() as conn:
                res = conn.execution_options(stream_results=True, yield_per=FETCH_CHUNK).execute(sa.select(*tbl.c))
                for _ in res.partitions(FETCH_CHUNK):
                    pass

    return timed(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="evidence.toml (default: the bundled sample)")
    args = parser.parse_args()
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="evidence-bench-ui-")
    atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)  # it holds a copy of the audit trail
    if args.config:
        os.environ["EVIDENCE_APP_CONFIG"] = str(Path(args.config).resolve())
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    bare = bare_read(args.config)
    at = AppTest.from_file(APP, default_timeout=1800)
    cold = timed(at.run)
    assert not at.exception, at.exception
    visitor = AppTest.from_file(APP, default_timeout=1800)
    second = timed(visitor.run)
    tenants = visitor.sidebar.multiselect(key="f_tenant").options
    box = visitor.sidebar.multiselect(key="f_tenant").set_value([tenants[0]])
    refilter = timed(box.run)
    again = timed(visitor.run)
    st.cache_data.clear()
    st.cache_resource.clear()
    restarted = AppTest.from_file(APP, default_timeout=1800)
    restart = timed(restarted.run)
    assert not restarted.exception, restarted.exception
    assert {m.label: m.value for m in at.metric} == {m.label: m.value for m in restarted.metric}
    note = next(c.value for c in restarted.sidebar.caption if c.value.startswith("Data "))
    fp, hit = parts(args.config)
    print(f"config: {args.config or 'bundled sample'}")
    print(f"bare read of the needed columns (same driver): {bare:7.2f} s")
    for label, seconds in (("overview first render, cold caches, no snapshot", cold),
                           ("overview, a second visitor's first render", second),
                           ("re-render after a tenant filter", refilter),
                           ("re-render, same filter again", again),
                           ("overview after a server restart (snapshot)", restart)):
        print(f"{label:<50} {seconds:7.2f} s  {seconds / bare:5.2f}× the bare read")
    print(f"  restart: fingerprints {fp:.2f} s, serving the snapshot (incl. fingerprints) {hit:.2f} s")
    print(f"  the page said: {note}")
    for page in PAGES:
        visitor.switch_page(page)
        first = timed(visitor.run)
        warm = timed(visitor.run)
        print(f"{page:<50} first {first:6.2f} s   warm {warm:6.2f} s")


def parts(config_path: str | None) -> tuple[float, float]:
    """Seconds for the fingerprints alone, and for a read_through served from the snapshot."""
    from evidence_app.config.settings import load_config
    from evidence_app.ingest.dataset import open_stores
    from evidence_app.persistence.snapshot import fingerprint, read_through

    config = load_config(config_path)
    stores = open_stores(config)
    period = _period(config_path)
    fp = timed(lambda: fingerprint(config, period, stores))
    t0 = time.perf_counter()
    loaded = read_through(config, period, stores)
    assert loaded.provenance.from_snapshot, loaded.provenance.reason
    return fp, time.perf_counter() - t0


def _period(config_path: str | None):
    """The period the app opens with: the operations' first to last day."""
    import pandas as pd

    from evidence_app.config.settings import load_config
    from evidence_app.ingest.canonical import parse_timestamps
    from evidence_app.ingest.dataset import open_stores
    from evidence_app.ingest.sources import time_extent
    from evidence_app.reconcile import Period

    lo, hi = time_extent(open_stores(load_config(config_path))[0], "occurred_at")
    ts = parse_timestamps(pd.Series([lo, hi], dtype=object))
    return Period(ts.iloc[0].date(), ts.iloc[1].date())


if __name__ == "__main__":
    main()
