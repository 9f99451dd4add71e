"""C2PA content credentials (c2pa-python): presence, validation state, generator, actions.

Remote manifests are never fetched (nothing about an item leaves the machine): a file that
points to one is reported as ``remote_not_fetched`` with the URL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

from forensic.media.interface import MediaDescriber
from forensic.media.safe import clean_text, json_safe

C2PA_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/tiff",
        "image/heic",
        "image/heif",
        "image/avif",
        "image/gif",
        "video/mp4",
        "video/quicktime",
        "audio/mpeg",
        "application/pdf",
    }
)
AI_SOURCE_TYPES = MappingProxyType(
    {
        "trainedAlgorithmicMedia": "made by generative AI",
        "compositeWithTrainedAlgorithmicMedia": "edited with generative AI",
    }
)


def _c2pa() -> Any:
    import c2pa  # type: ignore[import-untyped,unused-ignore]

    return c2pa


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for assertion in _dicts(manifest.get("assertions")):
        label = str(assertion.get("label", ""))
        data = assertion.get("data")
        if not label.startswith("c2pa.actions") or not isinstance(data, dict):
            continue
        for action in _dicts(data.get("actions")):
            if isinstance(action, dict):
                out.append(
                    {
                        "action": action.get("action"),
                        "digital_source_type": action.get("digitalSourceType"),
                        "software_agent": action.get("softwareAgent"),
                        "when": action.get("when"),
                    }
                )
    return out


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The dictionaries in a list the manifest store says it holds (anything else skipped)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def summarise_report(report: Any, embedded: bool, remote: Any) -> dict[str, Any]:
    """The describer's fields from the reader's JSON report. The report repeats what the file's
    manifest says, so every field is checked for shape before use (a crafted manifest must not
    crash the describer)."""
    if not isinstance(report, dict):
        report = {}
    state_raw = str(report.get("validation_state") or "")
    statuses = _dicts(report.get("validation_status"))
    codes = sorted({str(s.get("code")) for s in statuses})
    state = {"Trusted": "trusted", "Valid": "valid", "Invalid": "invalid"}.get(
        state_raw, state_raw.lower() or "unknown"
    )
    manifests = report.get("manifests")
    if not isinstance(manifests, dict):
        manifests = {}
    active = report.get("active_manifest")
    manifest = manifests.get(active) if isinstance(active, str) else None
    if not isinstance(manifest, dict):
        manifest = {}
    actions = _actions(manifest)
    sources = [a["digital_source_type"] for a in actions if a.get("digital_source_type")]
    short = [str(s).rstrip("/").rsplit("/", 1)[-1] for s in sources]
    ai = next((AI_SOURCE_TYPES[s] for s in short if s in AI_SOURCE_TYPES), None)
    generator = manifest.get("claim_generator") or ", ".join(
        f"{g.get('name')} {g.get('version', '')}".strip()
        for g in _dicts(manifest.get("claim_generator_info"))
    )
    return {
        "present": True,
        "state": state,
        "signer_trusted": state == "trusted",
        "signer_untrusted": "signingCredential.untrusted" in codes,
        "status_codes": codes,
        "failures": [
            {"code": s.get("code"), "explanation": s.get("explanation")}
            for s in statuses
            if s.get("code") != "signingCredential.untrusted"
        ],
        "embedded": embedded,
        "remote_url": remote,
        "claim_generator": generator or None,
        "title": manifest.get("title"),
        "signature": manifest.get("signature_info"),
        "actions": actions,
        "digital_source_types": sources,
        "ai_origin": ai,
        "manifest_count": len(manifests),
        "ingredients": [
            {"title": i.get("title"), "relationship": i.get("relationship")}
            for i in _dicts(manifest.get("ingredients"))
        ],
    }


class C2paDescriber(MediaDescriber):
    name = "c2pa"
    version = "1"

    def accepts(self, media_type: str, head: bytes) -> bool:
        return media_type in C2PA_TYPES

    def libraries(self) -> dict[str, str]:
        try:
            c2pa = _c2pa()
            return {
                "c2pa-python": str(c2pa.__version__ if hasattr(c2pa, "__version__") else "?"),
                "c2pa-rs": str(c2pa.sdk_version()),
            }
        except Exception:
            return {"c2pa-python": "not installed"}

    def describe(self, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {"present": False, "state": "none", "warnings": []}
        try:
            c2pa = _c2pa()
        except ImportError:
            result.update(state="not_checked")
            result["warnings"].append(
                "c2pa-python is not installed: content credentials not checked"
            )
            return result
        settings = c2pa.Settings.from_dict({"verify": {"remote_manifest_fetch": False}})
        context = c2pa.Context(settings)
        try:
            reader = c2pa.Reader.try_create(str(path), context=context)
        except c2pa.C2paError as exc:
            text = clean_text(str(exc), 1000)
            url = re.search(r"https?://\S+", text)
            if "Remote" in type(exc).__name__ or text.startswith("Remote"):
                result.update(
                    present=True,
                    state="remote_not_fetched",
                    remote_url=url.group(0) if url else None,
                )
                return result
            result.update(state="error")
            result["warnings"].append(f"C2PA manifest could not be read: {text}")
            return result
        except Exception as exc:
            result.update(state="error")
            result["warnings"].append(f"C2PA reader failed: {type(exc).__name__}: {exc}")
            return result
        if reader is None:
            return result
        with reader:
            report = json.loads(reader.json())
            embedded = bool(reader.is_embedded())
            remote = reader.get_remote_url()
        result.update(summarise_report(report, embedded, remote))
        return dict(json_safe(result))
