"""Could the connected role write to the audited table? Sessions are read-only, but a session can undo
that; a role that can write is a finding of its own, whichever way the privilege reaches it.

Write-capable means any privilege that changes or suppresses the table's rows: INSERT or UPDATE (also
on a single column), DELETE, TRUNCATE, TRIGGER (a trigger can rewrite or silently drop every later
insert), and on MySQL/MariaDB also DROP and ALTER — held directly, through PUBLIC, or through a role
the user belongs to or may switch to (PostgreSQL ``SET ROLE`` to a NOINHERIT membership, MariaDB/MySQL
granted roles whether default, active or not). REFERENCES only lets other tables point at this one:
not a write.
"""

from __future__ import annotations

import re
from typing import Sequence

import sqlalchemy as sa

_PG_WRITES = """
SELECT EXISTS (
  SELECT 1 FROM pg_roles r
  WHERE pg_has_role(current_user, r.oid, 'MEMBER')
    AND (has_any_column_privilege(r.oid, CAST(:t AS text), 'INSERT')
      OR has_any_column_privilege(r.oid, CAST(:t AS text), 'UPDATE')
      OR has_table_privilege(r.oid, CAST(:t AS text), 'DELETE')
      OR has_table_privilege(r.oid, CAST(:t AS text), 'TRUNCATE')
      OR has_table_privilege(r.oid, CAST(:t AS text), 'TRIGGER')))
"""
"""Every role the user is a member of (itself included; ``MEMBER`` also counts NOINHERIT memberships,
which ``SET ROLE`` can use), asked about table and column privileges, PUBLIC's included."""

_GRANT = re.compile(r"^GRANT (.+?) ON (?:TABLE |PROCEDURE |FUNCTION )?(\S+) TO ", re.IGNORECASE)
_ROLE_GRANT = re.compile(r"^GRANT (.+?) TO ", re.IGNORECASE)
_ROLE_NAME = re.compile(r"`((?:[^`]|``)+)`(?:@`((?:[^`]|``)*)`)?")
_MYSQL_WRITES = re.compile(r"\b(ALL|INSERT|UPDATE|DELETE|DROP|ALTER|TRIGGER)\b")
_MAX_ROLES = 1000


def write_capable(conn: sa.Connection, table: str) -> bool | None:
    """True when the connected role could write to ``table``; None where the question does not apply."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        qualified = ".".join(f'"{p}"' for p in table.split("."))
        return bool(conn.execute(sa.text(_PG_WRITES), {"t": qualified}).scalar())
    if dialect in ("mysql", "mariadb"):
        database = conn.execute(sa.text("SELECT DATABASE()")).scalar() or ""
        schema, _, name = table.rpartition(".")
        return mysql_grants_write(_all_grants(conn), schema or database, name)
    return None


def _all_grants(conn: sa.Connection) -> list[str]:
    """The user's GRANT lines and those of every role reachable from it (roles granted to roles too).
    MariaDB shows a role's grants only while that role (or one it was granted to) is active, so each is
    activated for the look, and the session's own role is restored after."""
    lines = _show_grants(conn, "CURRENT_USER()") + _show_grants(conn, "PUBLIC")
    current = conn.execute(sa.text("SELECT CURRENT_ROLE()")).scalar() if conn.dialect.name == "mariadb" else None
    todo = [(role, role) for line in lines for role in granted_roles(line)]  # (role, the granted role to activate)
    seen: set[str] = set()
    try:
        while todo and len(seen) < _MAX_ROLES:
            role, via = todo.pop()
            if role in seen:
                continue
            seen.add(role)
            found = _show_grants(conn, role) or _show_grants(conn, role, activate=via)
            lines += found
            todo += [(r, via) for line in found for r in granted_roles(line)]
    finally:
        if seen:
            _set_role(conn, f"`{current}`" if current else "NONE")
    return lines


def _show_grants(conn: sa.Connection, who: str, activate: str | None = None) -> list[str]:
    try:
        if activate is not None:
            _set_role(conn, activate)
        return [r[0] for r in conn.execute(sa.text(f"SHOW GRANTS FOR {who}"))]
    except sa.exc.DBAPIError:  # PUBLIC before MariaDB 10.11, or a role not shown to us
        conn.rollback()
        return []


def _set_role(conn: sa.Connection, role: str) -> None:
    try:
        conn.execute(sa.text(f"SET ROLE {role.split('@')[0]}"))
    except sa.exc.DBAPIError:
        conn.rollback()


def granted_roles(line: str) -> list[str]:
    """Roles a ``GRANT role[, role] TO …`` line gives (not a privilege line: no ``ON``), as
    ``SHOW GRANTS FOR`` accepts them."""
    if _GRANT.match(line):
        return []
    m = _ROLE_GRANT.match(line)
    if not m:
        return []
    return [f"`{r.group(1)}`" + (f"@`{r.group(2)}`" if r.group(2) is not None else "")
            for r in _ROLE_NAME.finditer(m.group(1))]


def mysql_grants_write(grants: Sequence[str], database: str, table: str) -> bool:
    """True when a privilege line writes (see the module) on a scope that covers ``database.table``."""
    for line in grants:
        m = _GRANT.match(line)
        if m and _MYSQL_WRITES.search(_without_columns(m.group(1)).upper()) and _covers(m.group(2), database, table):
            return True
    return False


def _without_columns(privileges: str) -> str:
    """``INSERT (`a`), UPDATE (`b`)`` → ``INSERT , UPDATE``: a column named ``delete`` grants nothing."""
    return re.sub(r"\([^)]*\)", "", privileges)


def _covers(scope: str, database: str, table: str) -> bool:
    """Does a grant's ``db.table`` scope cover the table? Database patterns may use ``%`` and ``_``."""
    if scope == "*.*":
        return True
    db_part, _, table_part = scope.partition(".")
    db_name = db_part.strip("`")
    if table_part == "*":
        return _like(db_name, database)
    same_db = db_name.replace("\\_", "_").replace("\\%", "%") == database
    return same_db and table_part.strip("`").lower() == table.lower()


def _like(pattern: str, value: str) -> bool:
    """MySQL's database wildcards: ``%`` any run, ``_`` one character, ``\\_``/``\\%`` themselves."""
    regex = "".join(
        re.escape(tok[1]) if tok.startswith("\\") else ".*" if tok == "%" else "." if tok == "_" else re.escape(tok)
        for tok in re.findall(r"\\.|%|_|[^\\%_]+", pattern)
    )
    return re.fullmatch(regex, value, re.DOTALL) is not None
