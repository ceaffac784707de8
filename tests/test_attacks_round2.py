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
