"""``compare``: what a captured item keeps of her original photo, and where it differs.

The original is read and hashed here; it is acquired into the case only when the user says so
(``acquire``: it is her photo, and she decides whether it becomes evidence). Either way its
SHA-256 is logged in the ``compare`` entry, never its path. The comparison's document, the
changed-region mask and a redacted figure are derived files of the item (age ciphertext in an
encrypted case) beside its other media records, vouched for by that one signed entry.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic._internal.paths import display
from forensic.errors import UsageError
from forensic.i18n import message
from forensic.service.opening import open_for_writing
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.analysis.compare import Comparison
    from forensic.custody.log import CustodyEntry

#: where the derived files go: media/<item>/compare-<original sha256, 16 hex>.{json,png}
COMPARE_DIR = "media"
COMPARE_PREFIX = "compare-"


class CompareUsageError(UsageError):
    """An original or item that cannot be compared (messages in ``[compare]``)."""

    catalogue = "compare."


@dataclass(frozen=True)
class CompareResult:
    item_id: str
    original_sha256: str
    original_name: str
    acquired: bool
    comparison: Comparison
    files: tuple[dict[str, Any], ...]
    entry: CustodyEntry

    def sentence(self, lang: str) -> str:
        """The plain statement a person reads (her original named by file name)."""
        c = self.comparison
        if not c.aligned:
            return message("compare.not_aligned", lang, name=self.original_name)
        key = "compare.summary_changed" if c.regions else "compare.summary_same"
        return message(
            key,
            lang,
            percent=round(c.explained * 100),
            name=self.original_name,
            regions=len(c.regions),
            outside=round(c.outside * 100),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "item": self.item_id,
            "original": {
                "name": self.original_name,
                "sha256": self.original_sha256,
                "acquired": self.acquired,
            },
            **self.comparison.as_dict(),
            "text": {"en": self.sentence("en"), "ko": self.sentence("ko")},
            "files": list(self.files),
            "log_entry": self.entry.seq,
        }


def _read_original(original: Path) -> tuple[bytes, str]:
    """The original's bytes and SHA-256, or a usage error naming the file."""
    shown = display(str(original))
    if not original.exists():
        raise CompareUsageError("original_missing", path=shown)
    if not original.is_file():
        raise CompareUsageError("original_not_file", path=shown)
    try:
        data = original.read_bytes()
    except OSError as exc:
        raise CompareUsageError(
            "original_unreadable", path=shown, reason=exc.strerror or str(exc)
        ) from exc
    return data, hashlib.sha256(data).hexdigest()


def _refusal(exc: Any, lang: str) -> str:
    from forensic.analysis.compare import CompareInputError

    assert isinstance(exc, CompareInputError)
    if exc.key == "too_small":
        return message("compare.too_small", lang, **exc.params)
    return message(f"media_bounds.{exc.key}", lang, **exc.params)


def compare_to_original(
    session: Session,
    original: Path,
    item: str,
    *,
    acquire: bool = False,
    case_dir: Path | None = None,
) -> CompareResult:
    """Align the item to the original, map the differences, write and log them."""
    from forensic.analysis.compare import CompareInputError, compare_images, read_work_image

    data, sha = _read_original(original)
    try:
        work_original = read_work_image(data)
    except CompareInputError as exc:
        raise CompareUsageError(
            "original_not_image", path=display(str(original)), reason=_refusal(exc, session.lang)
        ) from exc
    case, key = open_for_writing(session, case_dir)
    chosen = case.resolve_item(item)
    item_id = str(chosen.item_id)
    with case.store.plaintext_path(chosen.item_id) as path:
        try:
            work_item = read_work_image(path)
        except CompareInputError as exc:
            raise CompareUsageError(
                "item_not_image", item=item_id[:12], reason=_refusal(exc, session.lang)
            ) from exc
    result = compare_images(work_original, work_item)
    if acquire:
        _acquire(case, key, original)
    files, entry = _record(case, key, item_id, sha, acquire, result, work_item)
    return CompareResult(item_id, sha, display(original.name), acquire, result, tuple(files), entry)


def _acquire(case: Any, key: Any, original: Path) -> None:
    """The original into the case as an item of its own (its own capture entry)."""
    from forensic.capture.acquire import CaptureOptions, capture_paths

    got = capture_paths(
        case, key, [os.fsencode(original)], CaptureOptions(note="original photo for compare")
    )
    if got.failed:
        raise CompareUsageError(
            "original_not_acquired", path=display(str(original)), reason=str(got.failed[0])
        )


def _record(
    case: Any,
    key: Any,
    item_id: str,
    sha: str,
    acquired: bool,
    result: Comparison,
    work_item: Any,
) -> tuple[list[dict[str, Any]], CustodyEntry]:
    """The document, mask and redacted figure staged, and one ``compare`` entry for them."""
    from forensic._internal.canonical import canonical_json
    from forensic.analysis.compare import figure_png, mask_png
    from forensic.case.case import tool_record
    from forensic.custody.log import PendingEntry
    from forensic.media.perceptual import library_versions

    folder = case.root / COMPARE_DIR / item_id
    stem = f"{COMPARE_PREFIX}{sha[:16]}"
    summary = result.as_dict()
    doc = {
        "item": {"sha256": item_id},
        "original": {"sha256": sha, "acquired": acquired},
        "comparison": summary,
        "tool": {**tool_record(), "libraries": library_versions()},
    }
    with case.step(key, "compare") as step:
        files = []
        if result.mask is not None:
            files.append(step.stage_file(folder / f"{stem}-mask.png", mask_png(result.mask)))
            files.append(
                step.stage_file(folder / f"{stem}-figure.png", figure_png(work_item, result))
            )
        files.insert(0, step.stage_file(folder / f"{stem}.json", canonical_json(doc)))
        details = {
            "item": item_id,
            "original": {"sha256": sha, "acquired": acquired},
            "aligned": result.aligned,
            "reason": result.reason,
            "explained": summary["explained"],
            "changed": summary["changed"],
            "outside": summary["outside"],
            "pdq_distance": result.pdq_distance,
            "regions": summary["regions"],
            "tool": tool_record(),
            "files": files,
            "run": step.run,
        }
        [entry] = step.record([PendingEntry("compare", f"sha256:{item_id}", details)])
    return files, entry
