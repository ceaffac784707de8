"""The suite's own contract: the README's command 2 (what CI runs) is the whole suite, the README names the
development lane, and the list of slow tests in conftest names only tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

import conftest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_command_two_and_ci_run_the_whole_suite():
    assert "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/pytest\n" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^\.venv/bin/pytest$", ci, re.M), "CI runs the README's command 2 without a marker filter"


def test_the_readme_names_the_development_lane():
    assert '`.venv/bin/pytest -m "not slow"`' in README


def test_every_slow_entry_names_an_existing_test():
    tests = Path(__file__).resolve().parent
    for entry in conftest.SLOW:
        module, _, name = entry.partition("::")
        path = tests / module
        assert path.is_file(), entry
        if name:
            assert re.search(rf"^def {re.escape(name)}\(", path.read_text(encoding="utf-8"), re.M), entry
