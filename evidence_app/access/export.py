"""Access-log entries as JSON or CSV (the CLI's export and the admin page's download share these)."""

from __future__ import annotations

import json

from evidence_app.access.log import HASHED, Entry
from evidence_app.render import csv_text, neutralised

COLUMNS = HASHED + ("hash",)


def entries_json(entries: list[Entry]) -> str:
    """A JSON list, one object per entry, every hashed field plus ``hash``."""
    return json.dumps([e.as_json() for e in entries], indent=2, ensure_ascii=False) + "\n"


def entries_csv(entries: list[Entry]) -> str:
    """CSV with one column per field; ``scope`` and ``params`` as compact JSON text; text cells neutralised
    against spreadsheet formulas (the JSON export keeps them raw)."""
    rows = [[_cell(row[c]) for c in COLUMNS] for row in (e.as_json() for e in entries)]
    return csv_text(COLUMNS, rows)


def _cell(value: object) -> str:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else neutralised(value) if isinstance(value, str) else str(value)
