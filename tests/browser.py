"""Helpers for tests that drive a real server in headless Chromium (Playwright, Debian's chromium)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest

from conftest import IN_CI, WAIT_S

CHROMIUM = os.environ.get("EVIDENCE_TEST_CHROMIUM", "/usr/bin/chromium")
OUT = Path(__file__).resolve().parent.parent / "test-output" / "browser"
# Every wait in a browser test is on a condition, never a fixed sleep, limited by conftest's WAIT_S.
WAIT_MS = WAIT_S * 1000
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def need_browser() -> None:
    """Skip (fail in CI) when Playwright or Chromium is missing."""
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
        pytest.fail(reason) if IN_CI else pytest.skip(reason)
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        pytest.fail(reason) if IN_CI else pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(ready: Callable[[], bool], proc: subprocess.Popen, what: str, timeout: float = WAIT_S) -> None:
    """Poll ``ready`` until it holds; fail with the process's output if it exits first or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"{what} (waited up to {timeout:.0f} s): {out[-3000:]}")
        time.sleep(0.2)  # the poll interval, not a wait for anything


def answers(url: str, expect: bytes | None = None) -> bool:
    """Whether ``url`` answers (with a body of ``expect``, if given) right now."""
    try:
        with urllib.request.urlopen(url, timeout=10) as res:
            return expect is None or res.read().strip() == expect
    except OSError:
        return False


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = WAIT_S) -> None:
    """Until Streamlit's /_stcore/health answers ok; fail with the server's output if it dies first."""
    until(lambda: answers(f"{url}/_stcore/health", b"ok"), proc, "server did not become healthy", timeout)


def stop(proc: subprocess.Popen) -> None:
    """Terminate ``proc`` and wait for it, killing it if it has not gone within the limit."""
    proc.terminate()
    try:
        proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running(command: Sequence[str], port: int, env: dict | None = None, cwd: Path | None = None) -> Iterator[str]:
    """Start ``command`` (an ``evidence-app serve`` listening on ``port``); yield its URL; stop it after."""
    base = {k: v for k, v in os.environ.items() if k != "EVIDENCE_APP_CONFIG"}
    proc = subprocess.Popen(list(command), env={**base, **(env or {})}, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        stop(proc)


@contextmanager
def chromium() -> Iterator[object]:
    """A Playwright browser on Debian's Chromium."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                    args=FLAGS, timeout=WAIT_MS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def fresh_page(browser, url: str, heading: str | None = "Audit-trail completeness") -> Iterator[object]:
    """A new browser context (its own session, no state from other tests) opened at ``url``."""
    context = browser.new_context(viewport={"width": 1440, "height": 1800}, accept_downloads=True)
    try:
        pg = context.new_page()
        pg.set_default_timeout(WAIT_MS)
        pg.goto(url)
        if heading:
            pg.get_by_role("heading", name=heading).wait_for()
            settle(pg)
        yield pg
    finally:
        context.close()


DRAWN = """([heading, last, charts]) => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;   // "Running…"
  if (document.querySelector('[data-stale="true"]')) return false;              // left from an earlier run
  const main = document.querySelector('[data-testid="stMain"]') || document;
  const h = [...main.querySelectorAll('h1')].some(e => e.textContent.trim().startsWith(heading));
  if (!h) return false;
  if (![...main.querySelectorAll('[data-testid="stDownloadButton"], [data-testid="stDataFrame"]')]
        .some(e => e.textContent.includes(last) || e.getAttribute('data-testid') === last)) return false;
  const visible = [...main.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(e => e.offsetParent);
  return visible.length >= charts && visible.every(e => e.querySelector('.main-svg .trace, .main-svg .hm'));
}"""
"""When a page's run has drawn everything (a JS predicate over ``[heading, last, charts]``): no "Running…"
status widget and no element left stale from an earlier run (Streamlit marks them ``data-stale``); the page's
``h1`` starts with ``heading``; an element whose text holds ``last`` (or whose test id is ``last``: its last
element) is there; and at least ``charts`` Plotly charts are visible, each one that is visible having drawn its
traces (``.main-svg .trace``, a heat map's ``.hm``). Charts in a hidden tab are not waited for."""


def drawn(pg, heading: str, last: str, charts: int, timeout_ms: float = WAIT_MS) -> None:
    """Wait until the page has drawn everything (:data:`DRAWN`)."""
    pg.wait_for_function(DRAWN, arg=[heading, last, charts], timeout=timeout_ms, polling=50)


def settle(pg) -> None:
    """Wait until Streamlit has finished the current run (no 'Running…' status widget)."""
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)


def goto(pg, title: str, heading: str) -> None:
    """Open a page from the sidebar navigation and wait for it to finish running."""
    pg.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    pg.get_by_role("heading", name=heading).wait_for()
    settle(pg)


def shot(pg, name: str) -> None:
    pg.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def no_exception(pg) -> None:
    """The page shows no Streamlit exception box."""
    assert pg.locator("[data-testid='stException']").count() == 0, pg.locator("[data-testid='stException']").first.inner_text()


def download(pg, button: str, target: Path) -> Path:
    """Click a download button once the page has finished its run and save what it gives to ``target``. Under load
    a click can land while the page reruns and start no download: then it is clicked again (at most three times,
    within the one limit)."""
    for attempt in range(3):
        settle(pg)
        try:
            with pg.expect_download(timeout=WAIT_MS / 3) as info:
                pg.get_by_role("button", name=button).click()
            break
        except Exception:  # noqa: BLE001 - Playwright's timeout: no download started, try again
            if attempt == 2:
                raise
    info.value.save_as(target)
    return target
