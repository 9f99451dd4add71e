"""Text chunks (PNG tEXt/zTXt/iTXt, JPEG COM, EXIF UserComment) and AI-generator metadata.

Recognised: AUTOMATIC1111 / Forge / SD.Next ``parameters``, ComfyUI ``prompt``/``workflow``,
InvokeAI (``Dream``, ``sd-metadata``, ``invokeai_metadata``/``invokeai_graph``), NovelAI
(``Software``/``Comment``), Fooocus (``fooocus_scheme`` or JSON ``parameters``), SwarmUI
(``sui_image_params``), Easy Diffusion, Midjourney (``Description`` with a Job ID), and
generator names in the ``Software`` field. What a file *claims* is reported as such: this
metadata is easy to add or remove, so its absence says nothing.
"""

from __future__ import annotations

import contextlib
import json
import re
import zlib
from pathlib import Path
from typing import Any

from forensic.media.image.base import ImageDescriber
from forensic.media.image.containers import read_jpeg, read_png
from forensic.media.image.exif import read_exif, user_comment
from forensic.media.safe import clean_text, json_safe
from forensic.media.warning_text import warning_text

MAX_TEXT = 16 * 1024 * 1024
SOFTWARE_NAMES = (
    "stable diffusion", "novelai", "midjourney", "dall-e", "dall·e", "firefly", "comfyui",
    "invokeai", "automatic1111", "fooocus", "swarmui", "leonardo", "ideogram", "imagen",
    "flux", "draw things", "diffusionbee", "nightcafe",
)  # fmt: skip


def _decompress(data: bytes) -> bytes:
    dec = zlib.decompressobj()
    out = dec.decompress(data, MAX_TEXT)
    if dec.unconsumed_tail:
        raise ValueError(f"decompressed text exceeds {MAX_TEXT} bytes")
    return out


def png_text_chunks(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    png = read_png(path)
    warnings = list(png.warnings)
    chunks: list[dict[str, Any]] = []
    seen_idat = False
    for chunk in png.chunks:
        if chunk.kind == "IDAT":
            seen_idat = True
        if chunk.kind not in ("tEXt", "zTXt", "iTXt"):
            continue
        try:
            keyword, rest = chunk.data.split(b"\x00", 1)
            compressed = False
            if chunk.kind == "zTXt":
                text, compressed = _decompress(rest[1:]), True
            elif chunk.kind == "iTXt":
                flag, rest = rest[0], rest[2:]
                _lang, rest = rest.split(b"\x00", 1)
                _tr, text = rest.split(b"\x00", 1)
                if flag:
                    text, compressed = _decompress(text), True
            else:
                text = rest
            value = text.decode("utf-8" if chunk.kind == "iTXt" else "latin-1", "replace")
            if chunk.kind == "tEXt":
                # Many generators write UTF-8 into tEXt despite the spec's Latin-1.
                with contextlib.suppress(UnicodeDecodeError):
                    value = text.decode("utf-8")
        except (ValueError, IndexError, zlib.error) as exc:
            warnings.append(
                warning_text("png_text_unreadable", kind=chunk.kind, pos=chunk.offset, reason=exc)
            )
            continue
        chunks.append(
            {
                "keyword": clean_text(keyword, 80),
                "chunk": chunk.kind,
                "offset": chunk.offset,
                "compressed": compressed,
                "after_idat": seen_idat,
                "text": value,
            }
        )
    return chunks, warnings


def parse_a1111(text: str) -> dict[str, Any]:
    lines = text.strip().split("\n")
    settings_line = lines[-1] if lines and re.search(r"\bSteps: \d+", lines[-1]) else ""
    body = lines[:-1] if settings_line else lines
    prompt: list[str] = []
    negative: list[str] = []
    in_neg = False
    for line in body:
        if line.startswith("Negative prompt:"):
            in_neg = True
            line = line[len("Negative prompt:") :].strip()
        (negative if in_neg else prompt).append(line)
    settings = {
        m.group(1).strip(): m.group(2).strip().strip('"')
        for m in re.finditer(r'\s*([\w ./()-]+):\s*("(?:[^"\\]|\\.)*"|[^,]*)(?:,|$)', settings_line)
    }
    return {
        "prompt": "\n".join(prompt).strip(),
        "negative_prompt": "\n".join(negative).strip(),
        "settings": settings,
        "model": settings.get("Model"),
        "model_hash": settings.get("Model hash"),
    }


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def parse_comfy(prompt: Any, workflow: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nodes = prompt if isinstance(prompt, dict) else {}
    classes: list[str] = []
    texts: list[str] = []
    models: list[str] = []
    for node in nodes.values():
        if not isinstance(node, dict):
            continue
        cls = str(node.get("class_type", ""))
        classes.append(cls)
        inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
        assert isinstance(inputs, dict)
        for key, value in inputs.items():
            if isinstance(value, str) and key in ("text", "text_g", "text_l", "prompt"):
                texts.append(value)
            if isinstance(value, str) and key in (
                "ckpt_name",
                "unet_name",
                "lora_name",
                "model_name",
            ):
                models.append(value)
    out["node_types"] = sorted(set(classes))
    out["prompts"] = texts
    out["models"] = models
    if isinstance(workflow, dict):
        out["workflow_nodes"] = len(workflow.get("nodes", []) or [])
    return out


def detect(texts: dict[str, str]) -> list[dict[str, Any]]:
    """Generator claims found in ``keyword → text`` metadata."""
    found: list[dict[str, Any]] = []
    low = {k.lower(): v for k, v in texts.items()}
    params = low.get("parameters")
    if params is not None:
        as_json = _json(params)
        if isinstance(as_json, dict) and ("fooocus" in params.lower() or "fooocus_scheme" in low):
            found.append({"generator": "Fooocus", "key": "parameters", "details": as_json})
        elif re.search(r"\bSteps: \d+", params):
            found.append(
                {"generator": "AUTOMATIC1111", "key": "parameters", "details": parse_a1111(params)}
            )
        else:
            found.append(
                {
                    "generator": "unknown (parameters text)",
                    "key": "parameters",
                    "details": {"text": params},
                }
            )
    elif "fooocus_scheme" in low:
        found.append({"generator": "Fooocus", "key": "fooocus_scheme", "details": {}})
    if "prompt" in low or "workflow" in low:
        prompt, workflow = _json(low.get("prompt", "")), _json(low.get("workflow", ""))
        if (
            isinstance(prompt, dict)
            and any(isinstance(n, dict) and "class_type" in n for n in prompt.values())
        ) or isinstance(workflow, dict):
            found.append(
                {
                    "generator": "ComfyUI",
                    "key": "prompt/workflow",
                    "details": parse_comfy(prompt, workflow),
                }
            )
    if "use_stable_diffusion_model" in low:
        found.append(
            {
                "generator": "Easy Diffusion",
                "key": "use_stable_diffusion_model",
                "details": {"model": low["use_stable_diffusion_model"]},
            }
        )
    for key in ("dream", "sd-metadata", "invokeai_metadata", "invokeai_graph"):
        if key in low:
            value = low[key]
            details: Any = _json(value) if key != "dream" else {"command": value}
            if key == "dream":
                m = re.match(r'\s*"(.*)"', value, re.S)
                details = {"prompt": m.group(1) if m else value, "command": value}
            found.append({"generator": "InvokeAI", "key": key, "details": details})
            break
    software = low.get("software", "")
    if software.strip().lower().startswith("novelai") or (
        "comment" in low and "source" in low and "novelai" in low.get("software", "").lower()
    ):
        found.append(
            {
                "generator": "NovelAI",
                "key": "Software/Comment",
                "details": {
                    "comment": _json(low.get("comment", "")),
                    "description": low.get("description"),
                    "source": low.get("source"),
                },
            }
        )
    elif software and any(n in software.lower() for n in SOFTWARE_NAMES):
        found.append({"generator": clean_text(software, 200), "key": "Software", "details": {}})
    if "sui_image_params" in low:
        found.append(
            {
                "generator": "SwarmUI",
                "key": "sui_image_params",
                "details": _json(low["sui_image_params"]),
            }
        )
    desc = low.get("description", "")
    if "Job ID:" in desc or "midjourney" in desc.lower():
        found.append(
            {"generator": "Midjourney", "key": "Description", "details": {"description": desc}}
        )
    return found


class GeneratorDescriber(ImageDescriber):
    name = "generator"
    version = "1"
    types = frozenset({"image/png", "image/jpeg", "image/webp"})

    def describe(self, path: Path) -> dict[str, Any]:
        warnings: list[str] = []
        texts: dict[str, str] = {}
        chunks: list[dict[str, Any]] = []
        media_type = self.media_type_of(path)
        try:
            if media_type == "image/png":
                chunks, warns = png_text_chunks(path)
                warnings.extend(warns)
                for c in chunks:
                    texts.setdefault(c["keyword"], c["text"])
            elif media_type == "image/jpeg":
                for n, seg in enumerate(s for s in read_jpeg(path).segments if s.marker == 0xFE):
                    text = clean_text(seg.data, MAX_TEXT)
                    chunks.append(
                        {"keyword": "COM", "chunk": "COM", "offset": seg.offset, "text": text}
                    )
                    if n == 0 and re.search(r"\bSteps: \d+", text):
                        texts["parameters"] = text
            exif = read_exif(path, media_type)
            comment = user_comment(exif.tags)
            if comment:
                chunks.append({"keyword": "UserComment", "chunk": "EXIF", "text": comment})
                if re.search(r"\bSteps: \d+", comment) or comment.lstrip().startswith("{"):
                    texts.setdefault("parameters", comment)
            software = exif.tags.get("Image Software")
            if software is not None:
                texts.setdefault("Software", str(getattr(software, "printable", "")))
        except OSError as exc:
            warnings.append(warning_text("text_unreadable", reason=exc.strerror or exc))
        found = detect(texts)
        for c in chunks:
            c["length"] = len(c["text"])
            c["text"] = clean_text(c["text"], 65536)
        return dict(
            json_safe(
                {
                    "generators": found,
                    "ai_generator_claimed": bool(found),
                    "text_chunks": chunks,
                    "warnings": warnings,
                }
            )
        )
