"""Targets compare by meaning: the Arrow fast path must agree with ``json`` on every text it vouches for."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.columns.text import TEXT_DTYPE, as_text
from evidence_app.ingest.canonical import (MAX_JSON_DEPTH, already_canonical, canonical_json, canonical_target,
                                           rewritten_in_arrow)

scalars = (st.integers(-(10**20), 10**20) | st.text(max_size=6) | st.booleans() | st.none()
           | st.floats(allow_nan=False, allow_infinity=False))
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=4), inner, max_size=7), max_leaves=12)


@st.composite
def spellings(draw) -> str:
    """A JSON document written canonically, with spaces, with keys in any order, or a near-miss of one."""
    doc = draw(documents)
    sort = draw(st.booleans())
    seps = draw(st.sampled_from([(",", ":"), (", ", ": "), (",", ": ")]))
    text = json.dumps(doc, sort_keys=sort, separators=seps, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):  # a near-miss: one character changed, dropped or added
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(["", " ", '"', "\\", "-0", "1", "}", "é", '"a":1,'])) + text[i + 1:]
    return text


# Texts shaped like the fast path's patterns, with their traps: -0, leading zeros, repeated or unordered keys.
near_canonical = (st.from_regex(r'\A\[((-?[0-9]{1,2}|"[a-c\\]?"|true|nul),?){0,4}\]\Z')
                  | st.from_regex(r'\A\{("[a-c]{0,2}":(-?[0-9]{1,2}|"[a-c"]?"|null|1\.0),?){1,7}\}\Z'))


@settings(max_examples=1000, deadline=None)
@given(values=st.lists(spellings() | near_canonical | st.text(max_size=12), max_size=12))
def test_fast_path_vouches_only_for_canonical_text(values):
    found = already_canonical(as_text(pd.Series(values, dtype=object)))
    for value, vouched in zip(values, found):
        if vouched:
            assert canonical_json(value) == value


@settings(max_examples=300, deadline=None)
@given(values=st.lists(spellings() | st.none(), max_size=12))
def test_canonical_targets_equal_json_round_trip(values):
    out = canonical_target(pd.Series(values, dtype=object)).tolist()
    expected = [None if v is None else canonical_json(v) for v in values]
    assert [None if pd.isna(v) else v for v in out] == expected


def test_canonical_lists_and_sorted_objects_take_the_fast_path():
    values = ["[483920]", '["m-1",2,null]', '{"line":3,"order":81}', "[]"]
    assert already_canonical(as_text(pd.Series(values))).all()


def test_a_column_read_in_chunks_takes_the_same_path():
    chunked = pa.chunked_array([['{"a":1,"b":2}', '{"b": 1}'], ['{"b":1,"a":2}', "[1]"]], type=pa.large_string())
    text = pd.Series(pd.arrays.ArrowStringArray(chunked, dtype=TEXT_DTYPE))
    assert already_canonical(text).tolist() == [True, False, False, True]
    assert canonical_target(text).tolist() == ['{"a":1,"b":2}', '{"b":1}', '{"a":2,"b":1}', "[1]"]


def test_other_spellings_are_rewritten_to_the_same_target():
    out = canonical_target(pd.Series(['{"order": 81, "line": 3}', "[ 483920 ]", '{"a":1,"a":2}', "[-0]", "[1.50]"]))
    assert out.tolist() == ['{"line":3,"order":81}', "[483920]", '{"a":2}', "[0]", "[1.5]"]


_SPACE = st.sampled_from(["", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\xa0"])


@st.composite
def spaced(draw) -> str:
    """A flat list or object written with JSON (or other) whitespace around any token, keys in any order."""
    doc = draw(st.lists(st.integers(-(10**20), 10**20) | st.booleans() | st.none(), max_size=4)
               | st.dictionaries(st.text(st.sampled_from('ab" z\\é'), max_size=3),
                                 st.integers(-5, 5) | st.text(st.sampled_from('ab "'), max_size=2) | st.none()
                                 | st.floats(allow_nan=False, allow_infinity=False), max_size=7))
    text = json.dumps(doc, sort_keys=draw(st.booleans()), separators=(",", ":"), ensure_ascii=draw(st.booleans()))
    out = draw(_SPACE)
    for char in text:
        out += char + (draw(_SPACE) if char in "[]{},:" else "")
    return out + draw(_SPACE)


@settings(max_examples=400, deadline=None)
@given(values=st.lists(spaced() | spellings() | near_canonical | st.text(max_size=12), max_size=12))
def test_arrow_rewrites_only_to_what_json_writes(values):
    out = rewritten_in_arrow(pa.array(values, type=pa.large_string())).to_pylist()
    for value, rewritten in zip(values, out):
        if rewritten is not None:
            assert rewritten == canonical_json(value)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(spaced() | st.none(), max_size=12))
def test_spaced_targets_equal_json_round_trip(values):
    out = canonical_target(pd.Series(values, dtype=object)).tolist()
    assert [None if pd.isna(v) else v for v in out] == [None if v is None else canonical_json(v) for v in values]


def test_spaced_lists_and_reordered_objects_are_rewritten_in_arrow():
    values = ["[ 483920 ]", '{"order": 81, "line": 3}', ' {"b":"x y",\n"a":null} ', '{"a":1,"a":2}', '["x", 1]']
    assert rewritten_in_arrow(pa.array(values, type=pa.large_string())).to_pylist() == [
        "[483920]", '{"line":3,"order":81}', '{"a":null,"b":"x y"}', None, None]


def _at_depth(frames: int, fn, *args):  # noqa: ANN001, ANN202 - calls fn with `frames` more frames on the stack
    return fn(*args) if frames == 0 else _at_depth(frames - 1, fn, *args)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 900, 2000])
def test_a_deeply_nested_target_has_one_canonical_form_however_deep_the_callers_stack(depth):
    """The parser's recursion limit depends on the stack already in use (a read thread, a Dask worker, the
    client): the canonical form must not, or one target falls in two partitions' pieces."""
    spaced = "[ " * depth + "1" + " ]" * depth
    forms = {_at_depth(frames, canonical_json, spaced) for frames in (0, 200, 400, 700)}
    assert len(forms) == 1
    form = forms.pop()
    assert form == ("[" * depth + "1" + "]" * depth if depth <= MAX_JSON_DEPTH else spaced)


def test_brackets_inside_strings_do_not_count_as_nesting():
    flat = "[" + ",".join('{"b": 1, "a": "[[[{{"}' for _ in range(MAX_JSON_DEPTH + 5)) + "]"
    assert canonical_json(flat) == "[" + ",".join('{"a":"[[[{{","b":1}' for _ in range(MAX_JSON_DEPTH + 5)) + "]"
