"""RFC 8785 canonical JSON, the byte form that is hashed and signed.

Every custody entry is canonicalised once when written and again when verified, so the speed of
this function bounds how fast small files are captured and checked. ``canonical_json`` writes
the common types itself (exact ``dict``/``list``/``str``/``int``/``bool``/``None``, with
CPython's C string escaper, which escapes exactly what RFC 8785 3.2.2.2 escapes) and hands
every other value (floats, subclasses, tuples, out-of-range integers, unsupported types) to the
reference package ``rfc8785``, so those bytes and errors are the reference's own. The test
suite checks the two byte for byte (tests/test_canonical.py).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

import rfc8785

_INT_MAX = 2**53 - 1
_INT_MIN = -(2**53) + 1


def _utf16_key(item: tuple[str, Any]) -> bytes:
    return item[0].encode("utf-16be")


def _reference(value: Any) -> str:
    # Only reached for values the fast path does not own; rfc8785 raises what it raises.
    return bytes(rfc8785.dumps(value)).decode("utf-8")


def _write(value: Any, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        keys_ok = True
        for k in value:
            if type(k) is not str or not k.isascii():
                keys_ok = False
                break
        if not keys_ok:
            # UTF-16 code-unit order (RFC 8785 3.2.3) and the reference's key errors
            out.append(_reference(value))
            return
        sep = "{"
        for k in sorted(value):
            out.append(sep)
            out.append(encode_basestring(k))
            out.append(":")
            _write(value[k], out)
            sep = ","
        out.append("}")
    elif kind is list:
        if not value:
            out.append("[]")
            return
        sep = "["
        for v in value:
            out.append(sep)
            _write(v, out)
            sep = ","
        out.append("]")
    elif kind is int:
        if _INT_MIN <= value <= _INT_MAX:
            out.append(str(value))
        else:
            out.append(_reference(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    else:
        out.append(_reference(value))


def canonical_json(value: Any) -> bytes:
    out: list[str] = []
    _write(value, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        # a lone surrogate: the reference names it (CanonicalizationError)
        return bytes(rfc8785.dumps(value))


def parse_json_line(line: bytes) -> Any:
    return json.loads(line.decode("utf-8"))
