"""Packs in tests: built with the CLI, their attachments read back, and the independent tools the tests read
packs with (poppler-utils, qpdf): required in CI, else a clear skip."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_app.cli import main

from conftest import IN_CI

PERIOD = ["--start", "2026-08-01", "--end", "2026-10-29"]
AT = ["--generated-at", "2026-10-30T00:00:00Z"]


def run(*args: str, env: dict | None = None):
    """The CLI, in process."""
    return CliRunner().invoke(main, list(args), env=env)


def build(out: Path, identity, *extra: str, env=None, period: list[str] = PERIOD, at: list[str] = AT) -> Path:
    """A pack of the bundled sample (``identity`` = key and certificate paths) written to ``out``."""
    key, cert = identity
    res = run("pack", *period, *at, "--out", str(out), "--key", str(key), "--cert", str(cert), *extra, env=env)
    assert res.exit_code == 0, res.stderr + res.stdout
    return out


def attachments(path: Path) -> dict[str, bytes]:
    """The files embedded in the pack at ``path``, by name."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from evidence_app.evidence.attachments import read_attachments

    return read_attachments(PdfFileReader(io.BytesIO(path.read_bytes()), strict=False).root).files


def tool(name: str) -> str:
    """The path of ``name``; fails in CI (.ci/run installs it), skips elsewhere."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"CI=true but {name} is not installed (.ci/run installs poppler-utils and qpdf)")
        pytest.skip(f"{name} not installed (apt-get install poppler-utils qpdf)")
    return path


def pdf_text(pdf) -> str:
    """The text of a PDF as pdftotext lays it out, every run of whitespace one space."""
    out = subprocess.run([tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", " ", out)
