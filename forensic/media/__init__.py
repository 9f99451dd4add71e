"""Media understanding: metadata records of evidence items (pluggable describers)."""

from forensic.media.interface import MediaDescriber
from forensic.media.record import MediaRecord, describe_item, load_record, store_metadata
from forensic.media.registry import DescriberRegistry, describers
from forensic.media.show import metadata_lines

__all__ = [
    "DescriberRegistry",
    "MediaDescriber",
    "MediaRecord",
    "describe_item",
    "describers",
    "load_record",
    "metadata_lines",
    "store_metadata",
]
