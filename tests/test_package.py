"""Installed like a product: the built wheel, installed non-editable into a fresh venv outside the checkout,
runs the README's commands on the bundled sample (serve, coverage, pack, verify)."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from browser import chromium, free_port, fresh_page, need_browser, no_exception, running

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.package


def _run(args: list, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh venv holding only the wheel and its dependencies."""
    root = tmp_path_factory.mktemp("installed")
    built = _run([sys.executable, "-m", "build", "--wheel", "--outdir", root / "dist", REPO], cwd=root)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheel = next((root / "dist").glob("evidence_app-*.whl"))
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    pip = _run([bin_dir / "python", "-m", "pip", "install", "-q", wheel], cwd=root, timeout=1200)
    assert pip.returncode == 0, pip.stderr[-3000:]
    return bin_dir


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A working directory that is not the checkout (nothing found relative to it by accident)."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_the_installed_package_is_not_the_checkout(installed, elsewhere):
    res = _run([installed / "python", "-c", "import evidence_app, evidence_app.resources as r;"
                "print(evidence_app.__file__); print(r.sample_config()); print(r.control_catalogue())"], elsewhere)
    assert res.returncode == 0, res.stderr
    module, sample, catalogue = res.stdout.split()
    for path in (module, sample, catalogue):
        assert "site-packages" in path and not path.startswith(str(REPO)), path
        assert Path(path).is_file()


def test_coverage_on_the_bundled_sample(installed, elsewhere):
    from evidence_app.assess.pipeline import evaluate
    from evidence_app.config.settings import load_config
    from evidence_app.reconcile import Period
    from evidence_app.reconcile.coverage import coverage_table

    res = _run([installed / "evidence-app", "coverage", "--by", "tenant", "--format", "json"], elsewhere)
    assert res.returncode == 0, res.stderr
    expected = coverage_table(evaluate(load_config(None), Period())[1], ["tenant"])
    assert [r["expected"] for r in json.loads(res.stdout)] == list(expected["expected"])


def test_pack_and_verify(installed, elsewhere):
    cli = installed / "evidence-app"
    assert _run([cli, "keygen", "id"], elsewhere).returncode == 0
    res = _run([cli, "pack", "--start", "2026-10-01", "--end", "2026-10-29", "--out", "pack.pdf",
                "--key", "id/key.pem", "--cert", "id/cert.pem"], elsewhere)
    assert res.returncode == 0, res.stderr
    res = _run([cli, "verify", "pack.pdf", "--trust", "id/cert.pem"], elsewhere)
    assert res.returncode == 0, res.stdout + res.stderr


def test_serve_renders_the_overview(installed, elsewhere):
    need_browser()
    port = free_port()
    with running([installed / "evidence-app", "serve", "--port", str(port)], port, cwd=elsewhere) as url:
        with chromium() as browser, fresh_page(browser, url) as page:
            page.get_by_text("Coverage after replay").first.wait_for()
            no_exception(page)
