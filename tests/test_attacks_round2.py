"""Security round 2, attacker's view: attacks the first round's tests did not try, one test each.

Each test states the attack; a hole still open is marked ``xfail(strict=True)`` with the reason."""

from __future__ import annotations

import pytest

from evidence_app.ingest import d1dump
from evidence_app.ingest.d1dump import DumpRefused, execute_dump, private_connection

# ---------------------------------------------------------------------------------------------- class 3: D1 dumps


def _load(script: str):
    conn, policy = private_connection()
    try:
        execute_dump(conn, policy, script)
    except DumpRefused as exc:
        conn.close()
        return str(exc)
    conn.close()
    return None


@pytest.mark.parametrize("column", [
    "b DEFAULT (zeroblob(10000000))",                       # a DEFAULT expression, run at every INSERT
    "b AS (zeroblob(10000000)) STORED",                     # a stored generated column
])
def test_schema_expressions_cannot_amplify_a_tiny_dump_into_hundreds_of_megabytes(column):
    # Values are literals, but the schema's own expressions run at INSERT time outside the VALUES check:
    # ~700 bytes of dump would become 200 MB of rows (400 rows: the whole 4 GB cap).
    script = f"CREATE TABLE t(a, {column});\n" + "INSERT INTO t(a) VALUES(1);\n" * 20
    why = _load(script)
    assert why is not None and "memory cap" in why, why


def test_many_indexes_on_one_long_value_cannot_multiply_it_past_the_dump_s_own_size():
    # One 2 MB text value (a D1 row's maximum) indexed 60 times: a 2 MB dump would hold 120+ MB.
    script = ("CREATE TABLE t(a TEXT);\n" + "".join(f"CREATE INDEX i{k} ON t(a);\n" for k in range(60))
              + "INSERT INTO t VALUES('" + "x" * 2_000_000 + "');\n")
    why = _load(script)
    assert why is not None and "memory cap" in why, why


def test_a_real_sized_dump_still_loads_under_the_relative_cap():
    rows = "".join(f"INSERT INTO t VALUES({i},'{'v' * 200}');\n" for i in range(2000))
    script = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\nCREATE INDEX iv ON t(v);\nCREATE INDEX iv2 ON t(v, id);\n"
    assert _load(script + rows) is None


# ---------------------------------------------------------------------------------------------- class 6: CSV injection

import csv  # noqa: E402
import io  # noqa: E402

import pandas as pd  # noqa: E402

from evidence_app.render import csv_text, to_csv  # noqa: E402

_HIDDEN_FORMULAS = [
    " =HYPERLINK(\"http://evil/\")",        # leading space: Google Sheets and LibreOffice with "trim spaces" run it
    "  +1+cmd|' /C calc'!A0",               # DDE behind spaces
    "\u00a0=1+1",                            # no-break space
    "\u3000=1+1",                            # ideographic space
    "\ufeff=1+1",                            # a BOM inside a cell
    "\n=1+1",                                # a leading LF
    "\uff1dHYPERLINK(\"http://evil/\")",    # full-width equals sign: CJK Excel reads it as '='
    "\uff0b1+1", "\uff0d1+1", "\uff20SUM(A1)",
]


@pytest.mark.parametrize("cell", _HIDDEN_FORMULAS)
@pytest.mark.parametrize("dtype", ["string", object, "category"])
def test_a_formula_behind_whitespace_or_in_full_width_is_neutralised(cell, dtype):
    frame = pd.DataFrame({"operator": pd.Series([cell, "plain"], dtype=dtype), "n": [1, 2]})
    rows = list(csv.reader(io.StringIO(to_csv(frame), newline="")))
    assert rows[1][0] == "'" + cell, rows


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://evil/\")", "@SUM(A1)", "+1", "-1+1"])
def test_a_column_name_from_data_is_neutralised_in_the_header(name):
    # column names that come from data (a pivot by operator, a day × operator grid) head the CSV
    frame = pd.DataFrame({name: ["x"], "n": [1]})
    header = next(csv.reader(io.StringIO(to_csv(frame))))
    assert header[0] == "'" + name, header
    assert next(csv.reader(io.StringIO(csv_text([name, "n"], [["x", "1"]]))))[0] == "'" + name


# ---------------------------------------------------------------------------------------------- class 8: webhook

from evidence_app.assess.webhook import post_json  # noqa: E402
from evidence_app.errors import DeliveryError, UsageError  # noqa: E402


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hooks/SECRET123 x",                 # a space in the path (a pasted URL)
    "http://127.0.0.1:9/hooks/SECRET123\x7f",               # DEL
    "http://u:p@127.0.0.1:9/hooks/SECRET123?t=SECRET123\r\nX-Injected: y",  # CRLF into the request line
])
def test_a_malformed_webhook_url_never_shows_its_secret_path_in_the_error(url):
    # http.client's InvalidURL repeats the raw path and query, which carry the webhook's secret
    with pytest.raises((DeliveryError, UsageError)) as err:
        post_json(url, {"ok": True}, 3)
    assert "SECRET123" not in str(err.value), str(err.value)


# ---------------------------------------------------------------------------------------------- class 10: keygen

from evidence_app.evidence import sign  # noqa: E402


def test_force_never_overwrites_a_kept_identity_that_appears_during_the_rename(tmp_path, monkeypatch):
    # Two `keygen --force` in the same second: both pick key.replaced-<stamp>.pem; the second's rename()
    # would silently replace the first's kept key — an identity that packs are pinned to, lost.
    sign.keygen(tmp_path)
    old_key = (tmp_path / "key.pem").read_bytes()
    original = sign._kept_name
    planted: list = []

    def racing(path, now):  # noqa: ANN001, ANN202
        candidate = original(path, now)
        candidate.write_bytes(b"kept by the other keygen run\n")  # the other run got there first
        planted.append(candidate)
        return candidate

    monkeypatch.setattr(sign, "_kept_name", racing)
    try:
        sign.keygen(tmp_path, force=True)
    except (OSError, UsageError):
        pass  # refusing is fine; losing a file is not
    assert all(p.read_bytes() == b"kept by the other keygen run\n" for p in planted)
    everything = [p.read_bytes() for p in tmp_path.iterdir() if p.is_file()]
    assert old_key in everything  # the replaced key is still somewhere in the folder
