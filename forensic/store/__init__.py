"""Content-addressed, write-once evidence store (objects named by their SHA-256)."""

from forensic.store.evidence_store import (
    CHUNK_SIZE,
    SUPPORTED_HASHES,
    EvidenceStore,
    ItemId,
    ObjectCheck,
    StagedObject,
    StoredObject,
    hash_stream,
)

__all__ = [
    "CHUNK_SIZE",
    "SUPPORTED_HASHES",
    "EvidenceStore",
    "ItemId",
    "ObjectCheck",
    "StagedObject",
    "StoredObject",
    "hash_stream",
]
