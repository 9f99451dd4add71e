"""Trusted time: RFC 3161 time-stamp tokens over the custody log's head.

Public surface: :class:`TimestampAuthority`, :func:`stamp_head`, :class:`TimestampResult`,
:func:`stamp_after_write` (capture), :func:`verify_tokens` (verify), :func:`demo_tsa`.
"""

from forensic.timestamp.authority import (
    TimestampAuthority,
    TimestampConfig,
    default_tsas,
    load_config,
    trust_anchors,
    tsas_from_options,
)
from forensic.timestamp.demo import demo_tsa
from forensic.timestamp.errors import TimestampError, TimestampUsageError
from forensic.timestamp.stamp import (
    StampedToken,
    TimestampResult,
    TokenCheck,
    describe,
    first_covering_token,
    pending_queue,
    stamp_after_write,
    stamp_head,
    token_status,
    verify_tokens,
)

__all__ = [
    "StampedToken",
    "TimestampAuthority",
    "TimestampConfig",
    "TimestampError",
    "TimestampResult",
    "TimestampUsageError",
    "TokenCheck",
    "default_tsas",
    "demo_tsa",
    "describe",
    "first_covering_token",
    "load_config",
    "pending_queue",
    "stamp_after_write",
    "stamp_head",
    "token_status",
    "trust_anchors",
    "tsas_from_options",
    "verify_tokens",
]
