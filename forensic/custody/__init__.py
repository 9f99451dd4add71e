"""The signed, hash-chained, append-only custody log and the examiner's keys."""

from forensic.custody.keys import (
    ExaminerKey,
    KdfParams,
    PassphraseProvider,
    config_home,
    fingerprint,
    load_or_create_key,
    load_public_pem,
    unlock_key,
)
from forensic.custody.log import (
    GENESIS_PREV,
    CustodyEntry,
    CustodyLog,
    LogProblem,
    PendingEntry,
    line_hash,
)

__all__ = [
    "GENESIS_PREV",
    "CustodyEntry",
    "CustodyLog",
    "ExaminerKey",
    "KdfParams",
    "LogProblem",
    "PassphraseProvider",
    "PendingEntry",
    "config_home",
    "fingerprint",
    "line_hash",
    "load_or_create_key",
    "load_public_pem",
    "unlock_key",
]
