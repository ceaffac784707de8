"""One glob dialect for every log source: ``**`` any folder depth, ``*``/``?``/``[…]`` within one name,
hidden names (a leading ``.``) only when the pattern's segment asks for them. The local walker matches
folder entries with :func:`segment_matches`; object-storage keys are matched whole with :func:`glob_match`."""

from __future__ import annotations

import fnmatch
import glob
from functools import cache


def has_magic(segment: str) -> bool:
    """Does this segment hold a wildcard?"""
    return glob.has_magic(segment)


def segment_matches(name: str, segment: str) -> bool:
    """One name against one wildcard segment: case-sensitive, hidden names only for a segment starting with ``.``."""
    return fnmatch.fnmatchcase(name, segment) and (segment.startswith(".") or not name.startswith("."))


def glob_match(names: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Does a file path (its names, the last one the file's) match a pattern (its segments), as the walker
    would find it? ``**`` stands for zero or more non-hidden folders, or, as the last segment, for a
    non-hidden file at any depth below non-hidden folders; a segment without wildcards matches itself."""

    @cache
    def match(i: int, j: int) -> bool:
        if j == len(parts):
            return i == len(names)
        if i == len(names):
            return False
        part, name = parts[j], names[i]
        if part == "**":
            if j == len(parts) - 1:
                return all(not n.startswith(".") for n in names[i:])
            return match(i, j + 1) or (i < len(names) - 1 and not name.startswith(".") and match(i + 1, j))
        if not has_magic(part):
            return name == part and match(i + 1, j + 1)
        return segment_matches(name, part) and match(i + 1, j + 1)

    return match(0, 0)


def literal_prefix(pattern: str) -> str:
    """The text before the first wildcard: the narrowest listing prefix that can hold every match."""
    cut = next((i for i, ch in enumerate(pattern) if ch in "*?["), len(pattern))
    return pattern[:cut]
