"""A first config explains itself (issue 25): the README lists every canonical column as required or optional, and
the default period; a column map with an unknown key names the accepted ones (and the column a common word means)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evidence_app.config.settings import AUDIT_COLUMNS, OPERATION_COLUMNS, load_config
from evidence_app.errors import ConfigError

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("store, columns", [("operations", OPERATION_COLUMNS), ("audit", AUDIT_COLUMNS)])
def test_the_readme_lists_every_canonical_column_as_required_or_optional(store, columns):
    rows = dict(re.findall(rf"^\| {store} \| `(\w+)` \| [^|]+ \| (required|optional) \| [^|]+ \|$", README, re.M))
    required, optional = columns
    assert rows == {**{c: "required" for c in required}, **{c: "optional" for c in optional}}


def test_the_readme_states_the_default_period():
    assert "The default period is all data" in README and '"period": [null, null]' in README


@pytest.mark.parametrize("word, meant", [("operator", "user_id"), ("tenant", "restaurant_id")])
def test_an_unknown_column_key_names_every_accepted_one_and_what_was_meant(tmp_path, word, meant):
    cfg = tmp_path / "evidence.toml"
    cfg.write_text(f'[audit]\nurl = "sqlite:///a.db"\n[audit.columns]\n{word} = "x"\n'
                   '[operations]\nurl = "sqlite:///o.db"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    message = str(caught.value)
    assert message.startswith(f"audit.columns.{word}: unknown canonical column — the {word} is {meant}")
    assert all(c in message for c in AUDIT_COLUMNS[0] + AUDIT_COLUMNS[1])
