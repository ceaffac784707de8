"""End to end in a real headless Chromium: start the server, visit every page, filter, download, build a pack."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import IN_CI

CHROMIUM = os.environ.get("EVIDENCE_TEST_CHROMIUM", "/usr/bin/chromium")
OUT = Path(__file__).resolve().parent.parent / "test-output" / "browser"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _need_browser():
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
        pytest.fail(reason) if IN_CI else pytest.skip(reason)
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        pytest.fail(reason) if IN_CI else pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    _need_browser()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "EVIDENCE_APP_CONFIG"}
    proc = subprocess.Popen([sys.executable, "-m", "evidence_app", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not become healthy: {proc.stdout.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                    args=FLAGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1800}, accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(server)
        pg.get_by_role("heading", name="Audit-trail completeness").wait_for()
        yield pg
        browser.close()


def _settle(pg) -> None:
    """Wait until Streamlit has finished the current run (no 'Running…' status widget)."""
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def _goto(pg, title: str, heading: str) -> None:
    pg.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    pg.get_by_role("heading", name=heading).wait_for()
    _settle(pg)


def _shot(pg, name: str) -> None:
    pg.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def test_overview_shows_the_core_numbers(page):
    from evidence_app.config import load_config
    from evidence_app.coverage import coverage_table
    from evidence_app.dataset import evaluate
    from evidence_app.reconcile import Period

    _, recon = evaluate(load_config(None), Period())
    total = coverage_table(recon, []).iloc[0]
    page.get_by_text(f"{total['coverage_after_replay'] * 100:.2f}%").first.wait_for()
    page.locator(".js-plotly-plot .main-svg").first.wait_for()
    _shot(page, "01-overview")


def test_every_page_opens(page):
    for i, (title, heading) in enumerate((("Coverage gaps", "Coverage gaps"), ("Replay & backfill", "Replay & backfill"),
                                          ("Evidence pack", "Evidence pack"), ("Sources", "Sources")), start=2):
        _goto(page, title, heading)
        if title in ("Coverage gaps", "Replay & backfill"):
            page.locator(".js-plotly-plot .main-svg").first.wait_for()
        assert page.locator("[data-testid='stException']").count() == 0
        _shot(page, f"0{i}-{title.lower().replace(' & ', '-').replace(' ', '-')}")
    _goto(page, "Overview", "Audit-trail completeness")


def test_a_tenant_filter_changes_the_numbers(page):
    from evidence_app.config import load_config
    from evidence_app.coverage import coverage_table
    from evidence_app.dataset import evaluate
    from evidence_app.reconcile import Period, Scope, apply_scope

    _, recon = evaluate(load_config(None), Period())
    scoped = coverage_table(apply_scope(recon, Scope(tenant=("vie-neubau",))), []).iloc[0]
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first
    box.click()
    page.get_by_role("option", name="vie-neubau").click()
    page.keyboard.press("Escape")
    _settle(page)
    page.get_by_text(f"{scoped['expected']:,}", exact=True).first.wait_for()
    _shot(page, "06-overview-filtered")


def test_download_a_csv_of_the_gaps(page, tmp_path):
    _goto(page, "Coverage gaps", "Coverage gaps")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download these exceptions (CSV)").click()
    target = tmp_path / "exceptions.csv"
    info.value.save_as(target)
    lines = target.read_text().splitlines()
    assert lines[0].startswith("kind,operation_id,audit_id,day,operator,tenant")
    assert len(lines) > 1 and all(",vie-neubau," in line for line in lines[1:])


def test_build_and_download_a_signed_pack(page, tmp_path):
    from evidence_app.evidence.verify import verify_pack

    _goto(page, "Evidence pack", "Evidence pack")
    page.get_by_role("button", name="Build signed pack").click()
    page.get_by_text("is ready").wait_for(timeout=120_000)
    _shot(page, "07-evidence-pack-built")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the signed pack (PDF)").click()
    target = tmp_path / "pack.pdf"
    info.value.save_as(target)
    result = verify_pack(target.read_bytes())
    assert result.ok, [c for c in result.checks if c.ok is False]
    assert result.manifest["scope"] == {"tenant": ["vie-neubau"]}


def test_verify_an_uploaded_pack_in_the_page(page, tmp_path):
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the signed pack (PDF)").click()
    good = tmp_path / "good.pdf"
    info.value.save_as(good)
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(good))
    page.get_by_text("Verification passed").wait_for(timeout=60_000)
    _shot(page, "08-evidence-pack-verified")
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(good.read_bytes() + b"\n% appended after signing\n")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(tampered))
    page.get_by_text("Verification FAILED").wait_for(timeout=60_000)
