"""Access-log entries as JSON or CSV (the CLI's export and the admin page's download share these)."""

from __future__ import annotations

import csv
import io
import json

from evidence_app.access.log import HASHED, Entry

COLUMNS = HASHED + ("hash",)


def entries_json(entries: list[Entry]) -> str:
    """A JSON list, one object per entry, every hashed field plus ``hash``."""
    return json.dumps([e.as_json() for e in entries], indent=2, ensure_ascii=False) + "\n"


def entries_csv(entries: list[Entry]) -> str:
    """CSV with one column per field; ``scope`` and ``params`` as compact JSON text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in entries:
        row = e.as_json()
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else value
