"""RFC 8785 canonical JSON, the byte form that is hashed and signed."""

from __future__ import annotations

import json
from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    return bytes(rfc8785.dumps(value))


def parse_json_line(line: bytes) -> Any:
    return json.loads(line.decode("utf-8"))
