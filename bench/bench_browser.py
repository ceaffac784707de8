"""Benchmark the web app in headless Chromium (issue 21): the real server, timed from navigation to the last
figure drawn, next to a bare ``sqlite3`` read of the same columns in the same run.

    python bench/bench_browser.py --config /work/shared/sqlite-shuffled-1000000/evidence.toml
    python bench/bench_browser.py --config … --code /tmp/before --code .    # two code trees, alternated A/B

Each round, for each code tree (``--code``: the folder holding its ``evidence_app``; default this checkout):
a bare read; ``evidence-app serve`` started with a fresh private snapshot folder ($XDG_CACHE_HOME); then in
Chromium (a new browser context is a new Streamlit session):

- **cold**: the first visitor, no snapshot yet (loading, reconciling, the page);
- **second visitor**: a new context on the warm server;
- **filter**: in that session, the tenant with most operations picked in the sidebar;
- **coverage gaps**: that session opens the Coverage gaps page (filter kept);
- the server stopped and started again on the same folder (sources unchanged): **restart**, a new visitor
  served from the snapshot; and **restart, 2nd visitor**;
- **floor**: ``bench/floor_app.py`` — the Overview's kinds of elements and no data — served by plain
  ``streamlit run``, a new context each time: what Streamlit and Plotly cost a fresh browser whatever the app
  holds (the median of three).

"Drawn" (``tests/browser.py``'s ``DRAWN``): the page's heading and its last element are there, no element is stale from an
earlier run (Streamlit marks them ``data-stale``), no "Running…" status widget, and every visible Plotly chart
(at least the page's count) has drawn its traces (``.main-svg .trace``, a heat map's ``.hm``). Times include the browser's layout of everything received.
The bare read is ``sqlite3`` (stdlib) fetching every row of both tables' mapped columns, nothing kept.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("EVIDENCE_TEST_WAIT_S", "1800")  # a cold 10 M start is minutes; tests/browser's polls

from browser import CHROMIUM, DRAWN, FLAGS, free_port, stop, wait_healthy  # noqa: E402

LIMIT_MS = 1_800_000

OVERVIEW = ("Audit-trail completeness", "stDataFrame", 2)
"""Heading, last element (the Controls table), visible charts."""
GAPS = ("Coverage gaps", "Download every day × operator cell (CSV)", 2)
"""Heading, last element (its last download button), visible charts (the open tabs' heat map and bars)."""
FLOOR = ("Audit-trail completeness", "stDataFrame", 2)
"""bench/floor_app.py, drawn as the Overview is."""


FRESH = ("first render after start, no snapshot", "second visitor", "second visitor, coverage gaps",
         "after a restart (snapshot)", "after a restart, 2nd visitor")
"""Figures of a new browser context (which loads Streamlit's and Plotly's code afresh): shown above the floor."""


@dataclass(frozen=True)
class Store:
    """A SQLite store of the config: its file, table and the mapped columns read."""

    path: Path
    table: str
    columns: tuple[str, ...]


def stores(config_path: str) -> tuple[Store, Store]:
    from evidence_app.config.settings import load_config
    from evidence_app.ingest.sources import open_store

    config = load_config(config_path)
    found = []
    for cfg in (config.operations, config.audit):
        assert cfg.url is not None and cfg.url.get_backend_name() == "sqlite", "the bare read is for SQLite stores"
        present = open_store(cfg).present
        found.append(Store(Path(cfg.url.database), cfg.table, tuple(cfg.columns[c] for c in sorted(present))))
    return found[0], found[1]


def bare_read(pair: tuple[Store, Store]) -> float:
    """Every row of both tables' mapped columns through ``sqlite3``, read-only, nothing kept."""
    t0 = time.perf_counter()
    for s in pair:
        db = sqlite3.connect(f"file:{s.path}?mode=ro", uri=True)
        cur = db.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in s.columns)} FROM "{s.table}"')
        while cur.fetchmany(10_000):
            pass
        db.close()
    return time.perf_counter() - t0


def largest_tenant(pair: tuple[Store, Store], column: str) -> str:
    db = sqlite3.connect(f"file:{pair[0].path}?mode=ro", uri=True)
    (name,) = db.execute(f'SELECT "{column}" FROM "{pair[0].table}" WHERE "{column}" IS NOT NULL '
                         f'GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1').fetchone()
    db.close()
    return str(name)


class Server:
    """``evidence-app serve`` from one code tree on a free port (or ``argv`` with ``{port}``), its output in a
    file."""

    def __init__(self, code: Path, config: str, cache: Path, log: Path, argv: list[str] | None = None) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("EVIDENCE_APP_CONFIG", "PYTHONPATH")}
        env.update(PYTHONPATH=str(code), XDG_CACHE_HOME=str(cache))
        self._out = log.open("ab")
        argv = argv or [sys.executable, "-m", "evidence_app", "serve", "--config", config, "--port", "{port}"]
        self.proc = subprocess.Popen([a.replace("{port}", str(self.port)) for a in argv], env=env, cwd=code,
                                     stdout=self._out, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_healthy(self.url, self.proc, timeout=600)

    def close(self) -> None:
        stop(self.proc)
        self._out.close()


def drawn(pg, page: tuple[str, str, int]) -> None:
    pg.wait_for_function(DRAWN, arg=list(page), timeout=LIMIT_MS, polling=50)


def visit(browser, url: str, page: tuple[str, str, int] = OVERVIEW):
    """A new context (session) navigated to ``url``: (seconds to drawn, the page)."""
    context = browser.new_context(viewport={"width": 1440, "height": 1800})
    pg = context.new_page()
    pg.set_default_timeout(LIMIT_MS)
    t0 = time.perf_counter()
    pg.goto(url)
    drawn(pg, page)
    return time.perf_counter() - t0, pg


def pick_tenant(pg, tenant: str) -> float:
    """Type the tenant into the sidebar's first filter and pick it: seconds from the pick to drawn."""
    box = pg.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first
    box.click()
    pg.keyboard.type(tenant)
    option = pg.get_by_role("option", name=tenant, exact=True)
    option.wait_for()
    t0 = time.perf_counter()
    option.click()
    pg.keyboard.press("Escape")
    pg.get_by_test_id("stSidebar").get_by_text(tenant, exact=False).last.wait_for()
    pg.wait_for_function("(t) => [...document.querySelectorAll('[data-testid=\"stSidebar\"] [data-testid=\"stCaptionContainer\"]')]"
                         ".some(e => e.textContent.includes(t))", arg=tenant, timeout=LIMIT_MS, polling=50)
    drawn(pg, OVERVIEW)
    return time.perf_counter() - t0


def open_gaps(pg) -> float:
    t0 = time.perf_counter()
    pg.get_by_test_id("stSidebarNav").get_by_text("Coverage gaps", exact=True).click()
    drawn(pg, GAPS)
    return time.perf_counter() - t0


def round_of(code: Path, config: str, pair: tuple[Store, Store], tenant: str, out: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    figures = {"bare sqlite3 read": bare_read(pair)}
    cache = Path(tempfile.mkdtemp(prefix="evidence-bench-browser-"))
    log = out / f"server-{code.name or 'code'}.log"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            server = Server(code, config, cache, log)
            try:
                figures["first render after start, no snapshot"], first = visit(browser, server.url)
                first.context.close()
                figures["second visitor"], pg = visit(browser, server.url)
                figures["filter change (largest tenant)"] = pick_tenant(pg, tenant)
                figures["coverage gaps page (filtered)"] = open_gaps(pg)
                pg.screenshot(path=str(out / f"gaps-{code.name}.png"), full_page=True)
                pg.context.close()
                figures["second visitor, coverage gaps"], pg = visit(browser, server.url + "/coverage_gaps", GAPS)
                pg.context.close()
            finally:
                server.close()
            server = Server(code, config, cache, log)
            try:
                figures["after a restart (snapshot)"], pg = visit(browser, server.url)
                pg.screenshot(path=str(out / f"restart-{code.name}.png"), full_page=True)
                pg.context.close()
                figures["after a restart, 2nd visitor"], pg = visit(browser, server.url)
                pg.context.close()
            finally:
                server.close()
            floor = Server(code, config, cache, log, [sys.executable, "-m", "streamlit", "run",
                                                      str(ROOT / "bench" / "floor_app.py"), "--server.port",
                                                      "{port}", "--server.headless", "true"])
            try:
                times = []
                for _ in range(3):
                    seconds, pg = visit(browser, floor.url, FLOOR)
                    pg.context.close()
                    times.append(seconds)
                figures["floor: no data, same elements"] = statistics.median(times)
            finally:
                floor.close()
            browser.close()
    finally:
        shutil.rmtree(cache, ignore_errors=True)  # it holds a copy of the audit trail
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="evidence.toml of SQLite stores")
    parser.add_argument("--code", action="append", type=Path,
                        help="a folder holding the evidence_app to serve (repeat to compare; default: this checkout)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    config = str(Path(args.config).resolve())
    codes = [c.resolve() for c in (args.code or [ROOT])]
    pair = stores(config)
    from evidence_app.config.settings import load_config

    tenant = largest_tenant(pair, load_config(config).operations.columns["restaurant_id"])
    out = ROOT / "bench" / "out" / "browser"
    out.mkdir(parents=True, exist_ok=True)
    results: dict[Path, list[dict[str, float]]] = {c: [] for c in codes}
    for _ in range(args.rounds):
        for code in codes:  # alternated: A, B, A, B …
            results[code].append(round_of(code, config, pair, tenant, out))
            print(f"{code}: {results[code][-1]}", flush=True)
    bare = statistics.median(r["bare sqlite3 read"] for runs in results.values() for r in runs)
    print(f"\nconfig: {config}; largest tenant {tenant}; medians of {args.rounds} round(s); ratios against the "
          f"median bare read of the whole run ({bare:.2f} s: every code tree's rounds), and above the floor")
    for code, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        floor = med["floor: no data, same elements"]
        print(f"\n{code}")
        for label, seconds in med.items():
            above = f"  floor + {seconds - floor:5.2f} s" if label in FRESH else ""
            print(f"  {label:<42} {seconds:7.2f} s  {seconds / bare:5.2f}× the bare read{above}")


if __name__ == "__main__":
    main()
