"""The fast RFC 8785 canonicaliser gives the reference package's bytes, or its error, for every
value: generated values (hypothesis, with the strings and numbers where JSON encoders differ),
every line of a real custody log, and the JSON seeds of the fuzz targets (tests/fuzz/)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from forensic._internal import clock
from forensic._internal.canonical import canonical_json
from tests.conftest import Cli
from tests.fuzz import targets

# strings where escaping or UTF-16 key order matter: controls, DEL, quotes, backslash, U+2028,
# private-use (after the surrogate block in UTF-16), astral characters, a lone surrogate
_TRICKY = ["", "\x00\x1f\x7f", '"\\/', "\b\f\n\r\t", "\u2028\u2029", "\ue000", "\uffff",
           "\U0001f600", "\U00010000a", "한국어", "\ud800", "e\u0301"]  # fmt: skip
_strings = st.text(max_size=8) | st.sampled_from(_TRICKY)


class _Str(str):
    pass


class _Int(int):
    pass


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**54), 2**54)
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0.0, -0.0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 123456789.125])
    | _strings
    | _strings.map(_Str)
    | st.integers(-10, 10).map(_Int)
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(_strings, children, max_size=5)
        | st.dictionaries(st.integers(0, 3), children, min_size=1, max_size=2)
    ),
    max_leaves=20,
)


def _same(value: Any) -> None:
    try:
        expected: bytes | tuple[type, str] = bytes(rfc8785.dumps(value))
    except Exception as exc:  # the reference's own error, whatever it is
        expected = (type(exc), str(exc))
    try:
        got: bytes | tuple[type, str] = canonical_json(value)
    except Exception as exc:
        got = (type(exc), str(exc))
    assert got == expected, repr(value)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_values)
def test_generated_values_match_the_reference(value: Any) -> None:
    _same(value)


_EDGES = [*_TRICKY, {k: 1 for k in _TRICKY if k != "\ud800"}, {"\ud800": 1}, {1: 2},
          2**53 - 1, 2**53, -(2**53) + 1, float("nan"), {"a": [1.5, (2, 3)]}, {b"k": 1},
          object()]  # fmt: skip


@pytest.mark.parametrize("value", _EDGES)
def test_edge_values_match_the_reference(value: Any) -> None:
    _same(value)


def test_custody_log_and_fuzz_seeds_match_the_reference(
    case_dir: Path, cli: Cli, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "사진 \x01.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a photo")
    (src / "note.txt").write_text("x")
    assert cli("capture", src, "--case", case_dir).exit_code == 0
    lines = (case_dir / "custody" / "log.jsonl").read_bytes().splitlines()
    assert len(lines) > 3
    for line in lines:
        assert canonical_json(json.loads(line)) == line
    seeds = [targets.telegram_seed(), *targets.kakao_seeds().values()]
    parsed = [json.loads(s) for s in seeds if s.lstrip()[:1] in (b"{", b"[")]
    assert parsed
    for value in parsed:
        _same(value)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.integers(-(2**62), 2**62) | st.integers(0, 2**61) | st.sampled_from([0, 999, 10**9 - 1]))
def test_file_times_match_the_datetime_text(ns: int) -> None:
    """The capture record's file times (gmtime fast path) equal the datetime formatting."""
    seconds, rest = divmod(ns, 1_000_000_000)
    try:
        expected = clock._ns_to_utc_datetime(seconds, rest)
    except (OverflowError, ValueError, OSError) as exc:
        with pytest.raises(type(exc)):
            clock.ns_to_utc(ns)
        return
    assert clock.ns_to_utc(ns) == expected


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(max_size=12) | st.binary(max_size=12) | st.sampled_from(_TRICKY))
def test_printable_ascii_names_shown_as_the_escaper_shows_them(name: str | bytes) -> None:
    """display()'s shortcut for printable ASCII gives the per-character escaper's text."""
    from forensic._internal import paths

    slow = "".join(
        ch if " " <= ch <= "~" or (ord(ch) > 0x9F and ch not in _BIDI) else f"\\u{ord(ch):04x}"
        for ch in _decoded(name)
    )
    assert paths.display(name) == slow


_BIDI = {chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _decoded(name: str | bytes) -> str:
    try:
        raw = os.fsencode(name)
    except UnicodeEncodeError:
        raw = str(name).encode("utf-8", errors="backslashreplace")
    return raw.decode("utf-8", errors="backslashreplace")
