"""Fuzz targets shared by the hypothesis tests (tests/test_fuzz_parsers.py) and the atheris
harness (tests/fuzz/atheris_parsers.py): each takes untrusted bytes and checks the one property
that matters, i.e. the parser never raises and always returns its documented shape."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import shutil
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from forensic.capture.interface import AcquiredRef, DeriveContext, DeriveResult, GroupId
from tests.chatexports import (
    JPEG,
    KAKAO_ANDROID_EN_NEW,
    KAKAO_ANDROID_KO,
    KAKAO_IOS_KO,
    KAKAO_MAC_CSV,
    KAKAO_PC_KO,
    make_telegram_html,
    tg_messages,
)
from tests.conftest import SHARED_DATASETS
from tests.mediatools import (
    exif_absurd_jpeg,
    exif_loop_jpeg,
    jpeg_bytes,
    png_bytes,
    png_chunk,
    with_segment,
)
from tests.mediatools import (
    xmp_packet as make_xmp,
)

MAGIC = {
    "jpeg": b"\xff\xd8\xff\xe1",
    "png": b"\x89PNG\r\n\x1a\n",
    "tiff-le": b"II*\x00",
    "tiff-be": b"MM\x00*",
    "webp": b"RIFF\x00\x00\x00\x00WEBPVP8X",
    "gif": b"GIF89a",
}
C2PA_KEYS = frozenset(
    {
        "validation_state",
        "validation_status",
        "active_manifest",
        "manifests",
        "assertions",
        "label",
        "data",
        "actions",
        "action",
        "digitalSourceType",
        "claim_generator",
        "claim_generator_info",
        "ingredients",
        "code",
        "title",
        "signature_info",
        "c2pa.actions",
    }
)


def mutate(seed: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, offset, value) edits: 0 set a byte, 1 insert, 2 delete 1..16, 3 truncate."""
    buf = bytearray(seed)
    for kind, off, val in ops:
        if not buf:
            buf.append(val)
            continue
        at = off % len(buf)
        if kind == 0:
            buf[at] = val
        elif kind == 1:
            buf[at:at] = bytes([val]) * (1 + val % 8)
        elif kind == 2:
            del buf[at : at + 1 + val % 16]
        else:
            del buf[at:]
    return bytes(buf)


@functools.cache
def media_seeds() -> dict[str, bytes]:
    """Small real images carrying every kind of metadata the describers read."""
    from PIL import Image

    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "FuzzCam"
    exif[0x0110] = "Model 1"
    exif[0x0132] = "2024:07:03 13:06:00"
    Image.new("RGB", (32, 24), (200, 30, 90)).save(buf, "JPEG", exif=exif.tobytes())
    xmp = make_xmp(
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        "<dc:creator><rdf:Seq><rdf:li>Kim</rdf:li></rdf:Seq></dc:creator>"
        "<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/"
        "trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType></rdf:Description>"
    )
    iim = b"\x1c\x02\x78\x00\x05hello"
    psir = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iim)) + iim + b"\x00"
    seeds = {
        "jpeg-exif": buf.getvalue(),
        "jpeg-xmp": with_segment(jpeg_bytes(), 0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp),
        "jpeg-iptc": with_segment(jpeg_bytes(), 0xED, b"Photoshop 3.0\x00" + psir),
        "jpeg-exif-loop": exif_loop_jpeg(),
        "jpeg-exif-absurd": exif_absurd_jpeg(),
        "jpeg-plain": JPEG,
        "png-a1111": png_bytes(
            {"parameters": "a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler, Seed: 1"}
        ),
        "png-comfy": png_bytes(
            {"prompt": json.dumps({"1": {"class_type": "KSampler", "inputs": {"seed": 1}}})}
        ),
        "png-xmp": png_bytes(itxt={"XML:com.adobe.xmp": xmp}),
        "png-ztxt": png_bytes()[:33]
        + png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"x" * 200))
        + png_bytes()[33:],
    }
    for folder, names in (
        ("ai-metadata", ("automatic1111_cropped.png", "invokeai_dream1.png")),
        ("exif-samples", ()),
    ):
        for name in names:
            path = SHARED_DATASETS / folder / name
            if path.is_file():
                seeds[f"{folder}/{name}"] = path.read_bytes()
    return seeds


def describe_all(data: bytes, folder: Path) -> None:
    """Every describer that accepts the file: a dict with a warnings list, never an exception."""
    from forensic.media.registry import describers
    from forensic.media.safe import json_safe
    from forensic.mediatype import sniff

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "item"
    path.write_bytes(data)
    media_type = sniff(data[:8192])
    for describer in describers():
        if not describer.accepts(media_type, data[:8192]):
            continue
        if describer.name == "video":
            continue  # ffprobe per example is too slow here; tests/test_media_av.py covers it
        out = describer.describe(path)
        assert isinstance(out, dict) and isinstance(out.get("warnings"), list), (describer, out)
        json.dumps(json_safe(out))


def xmp_packet(body: bytes, ops: list[tuple[int, int, int]]) -> None:
    from forensic.media.image.xmp import parse_xmp

    real = make_xmp(
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt>'
        '<rdf:li xml:lang="x-default">t</rdf:li></rdf:Alt></dc:title></rdf:Description>'
    )
    for packet in (body, mutate(real, ops), real.replace(b"<dc:title>", body[:200], 1)):
        props, warnings = parse_xmp(packet)
        assert isinstance(props, dict) and isinstance(warnings, list)


def c2pa_report(report: Any, embedded: bool, remote: Any) -> None:
    from forensic.media.c2pa_reader import summarise_report
    from forensic.media.safe import json_safe

    out = summarise_report(report, embedded, remote)
    assert out["present"] is True and isinstance(out["actions"], list)
    json.dumps(json_safe(out))


def _context(folder: Path, files: dict[bytes, bytes]) -> DeriveContext:
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "objects").mkdir(parents=True)
    acquired = {}
    for rel, data in files.items():
        digest = hashlib.sha256(data).hexdigest()
        obj = folder / "objects" / digest
        obj.write_bytes(data)
        acquired[rel] = AcquiredRef(digest, len(data), obj)
    return DeriveContext(
        group_id=GroupId("group-fuzz"),
        root=bytes(folder / "src"),
        acquired=acquired,
        not_acquired={},
        scratch=folder / "scratch",
        timezone="Asia/Seoul",
        timezone_from="default",
        tool={"name": "forensic", "version": "fuzz"},
    )


def _check(result: DeriveResult) -> None:
    """A transcript artefact always comes out; a parse failure is a named problem."""
    assert len(result.artefacts) == 1, result
    art = result.artefacts[0]
    assert art.temp.is_file()
    doc = json.loads(art.temp.read_bytes())
    assert doc["message_total"] == art.details["messages"]
    if not art.details["complete"]:
        assert art.details["error"] and any(
            p.reason == "chat.parse_failed" for p in result.problems
        )


@functools.cache
def telegram_seed() -> bytes:
    return json.dumps(
        {"name": "Group A", "type": "private_group", "id": 1, "messages": tg_messages()},
        ensure_ascii=False,
    ).encode()


@functools.cache
def telegram_html_seed() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = make_telegram_html(Path(tmp))
        return (root / "messages.html").read_bytes()


def telegram_json(blob: bytes, folder: Path) -> None:
    from forensic.capture.telegram import _derive_json

    _check(_derive_json(_context(folder, {b"result.json": blob})))


def telegram_html(blob: bytes, folder: Path) -> None:
    from forensic.capture.telegram import TelegramSource

    result = TelegramSource.derive(
        TelegramSource.__new__(TelegramSource), _context(folder, {b"messages.html": blob})
    )
    _check(result)


def kakao_seeds() -> dict[str, bytes]:
    return {
        "android-ko.txt": KAKAO_ANDROID_KO.encode(),
        "android-en.txt": KAKAO_ANDROID_EN_NEW.encode(),
        "ios-ko.txt": KAKAO_IOS_KO.encode(),
        "pc-ko.txt": KAKAO_PC_KO.encode("cp949"),
        "mac.csv": KAKAO_MAC_CSV.encode(),
    }


@functools.cache
def kakao_zip_seed() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("KakaoTalkChats.txt", KAKAO_ANDROID_KO)
        zf.writestr("20240703_130600.jpg", JPEG)
    return buf.getvalue()


def kakao_file(blob: bytes, ext: str, folder: Path) -> None:
    """Recognised (or refused with NotKakaoTalk) and, when recognised, parsed from the store."""
    from forensic.capture.kakaotalk import KakaoTalkSource, NotKakaoTalk

    folder.mkdir(parents=True, exist_ok=True)
    name = f"chat.{ext}".encode()
    path = folder / name.decode()
    path.write_bytes(blob)
    with contextlib.suppress(NotKakaoTalk):
        KakaoTalkSource.recognise(bytes(path))
    source = KakaoTalkSource(bytes(path))
    _check(source.derive(_context(folder / "ctx", {name: blob})))
