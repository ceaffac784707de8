"""axe-core (npm) for the browser tests: installed once, pinned, into a cache folder (never the repo), and run
inside a page by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import IN_CI, WAIT_S

AXE_VERSION = "4.10.3"
CACHE = Path(os.environ.get("EVIDENCE_TEST_TOOLS", Path.home() / ".cache" / "evidence-app-tests"))
AXE_DIR = CACHE / f"axe-core-{AXE_VERSION}"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
"""The impacts a page may not have (WCAG 2.1 AA and axe's best practices alike)."""


def _missing(reason: str) -> None:
    pytest.fail(f"CI=true but {reason}") if IN_CI else pytest.skip(reason)


def install_axe() -> Path:
    """axe.min.js of :data:`AXE_VERSION`, installed with npm into the cache on first use."""
    if AXE_JS.is_file():
        return AXE_JS
    npm = shutil.which("npm")
    if npm is None:
        _missing("npm not found: axe-core cannot be installed")
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([npm, "install", "--prefix", str(AXE_DIR), f"axe-core@{AXE_VERSION}", "--no-audit",
                           "--no-fund", "--ignore-scripts"], capture_output=True, text=True, timeout=WAIT_S)
    if done.returncode != 0 or not AXE_JS.is_file():
        _missing(f"npm install axe-core@{AXE_VERSION} failed: {(done.stderr or done.stdout)[-500:]}")
    return AXE_JS


RUN = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n')[1])}))"""


ALWAYS = ("heading-order",)
"""Rules whose every violation counts, whatever axe's impact (headings out of order are "moderate" to axe)."""


def violations(pg, axe_js: Path) -> list[dict]:
    """axe-core's violations of the page as it stands: serious or critical ones, and any of :data:`ALWAYS`."""
    if not pg.evaluate("() => typeof axe !== 'undefined'"):
        pg.add_script_tag(path=str(axe_js))
    return [v for v in pg.evaluate(RUN) if v["impact"] in BLOCKING or v["id"] in ALWAYS]
