"""Docs that cannot drift: every CLI command and option has help text and is in the README, and so is
every evidence.toml key and every [controls] threshold."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from evidence_app.assess.controls import load_catalogue
from evidence_app.cli import main
from evidence_app.config.settings import KEYS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{path} ")
    return found


COMMANDS = _commands(main)
OPTIONS = [(path, param) for path, command in COMMANDS for param in command.params
           if isinstance(param, click.Option) and not param.hidden]


@pytest.mark.parametrize("path, command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_says_what_it_does(path, command):
    assert (command.help or "").strip(), f"{path} has no help text"


@pytest.mark.parametrize("path, option", OPTIONS, ids=[f"{p} {o.opts[0]}" for p, o in OPTIONS])
def test_every_option_has_help_text(path, option):
    assert (option.help or "").strip(), f"{path} {option.opts[0]} has no help text"


@pytest.mark.parametrize("path, command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_is_in_the_readme(path, command):
    assert f"evidence-app {path}" in README, f"`evidence-app {path}` is not documented in README.md"


@pytest.mark.parametrize("path, option", OPTIONS, ids=[f"{p} {o.opts[0]}" for p, o in OPTIONS])
def test_every_option_is_in_the_readme(path, option):
    names = [o for o in option.opts + option.secondary_opts if o.startswith("--") and o != "--help"]
    assert not names or any(re.search(re.escape(n) + r"\b", README) for n in names), \
        f"{path} {names[0]} is not documented in README.md"


CONFIG_KEYS = [(section, key) for section, keys in KEYS.items() for key in sorted(keys)]


@pytest.mark.parametrize("section, key", CONFIG_KEYS, ids=[f"{s}.{k}" if s else k for s, k in CONFIG_KEYS])
def test_every_config_key_is_in_the_readme(section, key):
    if not section:  # a top-level section: documented by its header
        assert f"[{key}]" in README, f"[{key}] is not documented in README.md"
    elif f"[{section}.{key}]" not in README:  # a sub-table (column maps, the action map)
        assert re.search(rf"^\s*#?\s*{re.escape(key)}\s*=", README, re.M), \
            f"{section}.{key} is not documented in README.md (as `{key} = …` in an example)"


@pytest.mark.parametrize("key", sorted(load_catalogue()[1]))
def test_every_control_threshold_is_in_the_readme(key):
    assert f"`{key}`" in README, f"[controls] {key} is not documented in README.md"
