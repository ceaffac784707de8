"""End to end in a real headless Chromium: start the server, visit every page, filter, download, build a pack.

Every test opens its own browser context (its own Streamlit session), so none depends on another's
clicks or on the order they run in; only the server is shared.
"""

from __future__ import annotations

import re
import sys

import pytest

from evidence_app.assess.pipeline import evaluate
from evidence_app.config.settings import load_config
from evidence_app.reconcile import Period, Scope, apply_scope
from evidence_app.reconcile.coverage import coverage_table

from browser import (
    WAIT_MS,
    chromium,
    download,
    free_port,
    fresh_page,
    goto,
    need_browser,
    no_exception,
    running,
    settle,
    shot,
)


@pytest.fixture(scope="module")
def server():
    need_browser()
    port = free_port()
    with running([sys.executable, "-m", "evidence_app", "serve", "--port", str(port)], port) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    with fresh_page(browser, server) as pg:
        yield pg


@pytest.fixture(scope="module")
def sample():
    return evaluate(load_config(None), Period())[1]


def _filter_tenant(pg, tenant: str) -> None:
    """Pick a tenant in the sidebar and wait until the app has applied it. Under load a click can land while
    the page reruns and be lost: then it is tried again (never twice once the tag is there)."""
    box = pg.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first
    chosen = box.get_by_text(tenant, exact=True)
    for _ in range(4):
        if chosen.count():
            break
        settle(pg)
        box.click()
        try:
            pg.get_by_role("option", name=tenant).click(timeout=WAIT_MS / 3)
        except Exception:  # noqa: BLE001 - Playwright's timeout: the list was re-rendered, try again
            pg.keyboard.press("Escape")
            continue
        pg.keyboard.press("Escape")
        try:
            chosen.wait_for(timeout=WAIT_MS / 3)
        except Exception:  # noqa: BLE001 - the selection did not take, try again
            continue
    chosen.wait_for(timeout=WAIT_MS)
    settle(pg)


def _build_pack(pg) -> None:
    goto(pg, "Evidence pack", "Evidence pack")
    pg.get_by_role("button", name="Build signed pack").click()
    pg.get_by_text("is ready").wait_for(timeout=WAIT_MS)
    settle(pg)


def test_overview_shows_the_core_numbers(page, sample):
    total = coverage_table(sample, []).iloc[0]
    page.get_by_text(f"{total['coverage_after_replay'] * 100:.2f}%").first.wait_for()
    page.get_by_text(f"{total['expected']:,}", exact=True).first.wait_for()
    page.locator(".js-plotly-plot .main-svg").first.wait_for()
    no_exception(page)
    shot(page, "01-overview")


@pytest.mark.parametrize("title", ["Coverage gaps", "Replay & backfill", "Remediation & accuracy", "Evidence pack",
                                   "Sources"])
def test_every_page_opens_without_an_exception(page, title):
    goto(page, title, title)
    if title in ("Coverage gaps", "Replay & backfill"):
        page.locator(".js-plotly-plot .main-svg").first.wait_for()
    no_exception(page)
    shot(page, f"02-{title.lower().replace(' & ', '-').replace(' ', '-')}")


def test_a_tenant_filter_changes_the_numbers(page, sample):
    everything = coverage_table(sample, []).iloc[0]
    scoped = coverage_table(apply_scope(sample, Scope(tenant=("vie-neubau",))), []).iloc[0]
    assert scoped["expected"] != everything["expected"]
    _filter_tenant(page, "vie-neubau")
    page.get_by_text(f"{scoped['expected']:,}", exact=True).first.wait_for()
    assert page.get_by_text(f"{everything['expected']:,}", exact=True).count() == 0
    shot(page, "06-overview-filtered")


def test_download_a_csv_of_the_gaps_of_one_tenant(page, tmp_path):
    _filter_tenant(page, "vie-neubau")
    goto(page, "Coverage gaps", "Coverage gaps")
    lines = download(page, "Download these exceptions (CSV)", tmp_path / "exceptions.csv").read_text().splitlines()
    assert lines[0].startswith("kind,operation_id,audit_id,day,operator,tenant")
    assert len(lines) > 1 and all(",vie-neubau," in line for line in lines[1:])


def test_build_and_download_a_signed_pack_of_the_filtered_scope(page, tmp_path):
    from evidence_app.evidence.trust import trust_from_fingerprints
    from evidence_app.evidence.verify import verify_pack

    _filter_tenant(page, "vie-neubau")
    _build_pack(page)
    shot(page, "07-evidence-pack-built")
    target = download(page, "Download the signed pack (PDF)", tmp_path / "pack.pdf")
    untrusted = verify_pack(target.read_bytes())
    assert untrusted.intact and untrusted.failed == ("trust",)
    shown = re.search(r"fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})", page.get_by_text("is ready").inner_text())
    assert shown, "the page shows the signer certificate's fingerprint next to the pack"
    result = verify_pack(target.read_bytes(), trust_from_fingerprints([shown.group(1)]))
    assert result.ok, [c for c in result.checks if c.ok is False]
    assert result.manifest["scope"] == {"tenant": ["vie-neubau"]}


def test_verify_an_uploaded_pack_in_the_page_and_catch_an_appended_one(page, tmp_path):
    _build_pack(page)
    good = download(page, "Download the signed pack (PDF)", tmp_path / "good.pdf")
    upload = page.locator("[data-testid='stFileUploader'] input[type='file']")
    upload.set_input_files(str(good))
    page.get_by_text("Verification passed").wait_for(timeout=WAIT_MS)
    shot(page, "08-evidence-pack-verified")
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(good.read_bytes() + b"\n% appended after signing\n")
    upload.set_input_files(str(tampered))
    page.get_by_text("Verification FAILED").wait_for(timeout=WAIT_MS)
    assert page.get_by_text("Verification passed").count() == 0


def test_verify_page_fails_a_truncated_pack_in_one_line(page, tmp_path):
    _build_pack(page)
    good = download(page, "Download the signed pack (PDF)", tmp_path / "good.pdf")
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(cut))
    page.get_by_text("Verification FAILED: not a readable PDF").wait_for(timeout=WAIT_MS)
    assert page.get_by_text("Verification passed").count() == 0
    no_exception(page)


def test_verify_page_never_passes_a_foreign_signer_until_the_user_trusts_it(page, tmp_path):
    from click.testing import CliRunner

    from evidence_app.cli import main

    import forge

    foreign = forge.make_identity(tmp_path / "foreign")
    pack = tmp_path / "foreign.pdf"
    res = CliRunner().invoke(main, ["pack", "--start", "2026-10-01", "--end", "2026-10-02", "--out", str(pack),
                                    "--key", str(foreign.key), "--cert", str(foreign.cert)])
    assert res.exit_code == 0, res.output
    goto(page, "Evidence pack", "Evidence pack")
    page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(str(pack))
    verdict = page.get_by_text("Verification FAILED: signer not trusted")
    verdict.wait_for(timeout=WAIT_MS)
    assert forge.colon_hex(foreign.fingerprint) in verdict.inner_text()
    assert page.get_by_text("Verification passed").count() == 0
    shot(page, "09-evidence-pack-untrusted-signer")
    page.get_by_text("Trust another signer (a certificate or a fingerprint)").click()
    box = page.get_by_label("…or the signer certificate's SHA-256 fingerprint (colons optional)")
    box.fill(foreign.fingerprint)
    box.press("Enter")
    page.get_by_text("Verification passed").wait_for(timeout=WAIT_MS)
    assert page.get_by_text("Verification FAILED").count() == 0
