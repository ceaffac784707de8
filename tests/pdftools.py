"""The independent tools the tests read packs with (poppler-utils, qpdf): required in CI, else a clear skip."""

from __future__ import annotations

import shutil

import pytest

from conftest import IN_CI


def tool(name: str) -> str:
    """The path of ``name``; fails in CI (.ci/run installs it), skips elsewhere."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"CI=true but {name} is not installed (.ci/run installs poppler-utils and qpdf)")
        pytest.skip(f"{name} not installed (apt-get install poppler-utils qpdf)")
    return path
