"""Helpers that keep describer output JSON-safe and bounded."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

MAX_STRING = 64 * 1024
MAX_INT = 2**53 - 1


def clean_text(value: bytes | str, limit: int = MAX_STRING) -> str:
    """Text for a record: decoded leniently, NULs and control characters dropped, bounded."""
    if isinstance(value, bytes):
        try:
            decoded = value.decode("utf-8")
        except UnicodeDecodeError:
            decoded = value.decode("latin-1")
    else:
        decoded = value
    text = "".join(ch for ch in decoded if ch in "\n\t" or ch >= " " or ch == "\r")
    text = text.replace("\x7f", "").rstrip("\x00").strip()
    if len(text) > limit:
        text = text[:limit] + f"… [{len(text) - limit} more characters]"
    return text


def json_safe(value: Any, depth: int = 0) -> Any:
    """Convert to something RFC 8785 canonical JSON accepts (finite numbers, str keys)."""
    if depth > 40:
        return "[nested too deep]"
    if value is None or isinstance(value, bool | str):
        return clean_text(value) if isinstance(value, str) and len(value) > MAX_STRING else value
    if isinstance(value, int):
        return value if -MAX_INT <= value <= MAX_INT else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return value
    if isinstance(value, Fraction):
        return json_safe(float(value)) if value.denominator else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return {"bytes": len(data), "hex": data[:64].hex() + ("…" if len(data) > 64 else "")}
    if isinstance(value, dict):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, depth + 1) for v in value]
    return clean_text(str(value))
