"""Provenance signals read from the item's metadata record (``media/<sha>/metadata.json``).

Positive proof when present: a valid C2PA manifest declaring an AI source type is a signed
statement by its signer; XMP/IPTC source types and generator text are claims written into the
file (they can be added or removed by anyone, so their absence proves nothing).
"""

from __future__ import annotations

from typing import Any

from forensic.analysis.interface import (
    STATUS_INDICATES,
    STATUS_INFO,
    STATUS_NO_EVIDENCE,
    STATUS_NOT_APPLICABLE,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
)

IPTC_REF = "IPTC NewsCodes Digital Source Type vocabulary (cv.iptc.org/newscodes/digitalsourcetype)"
C2PA_REF = "C2PA Technical Specification 2.1, actions assertion digitalSourceType"
AI_ORIGIN = frozenset({"trainedAlgorithmicMedia"})
AI_EDIT = frozenset({"compositeWithTrainedAlgorithmicMedia"})
SYNTHETIC = frozenset({"algorithmicMedia", "compositeSynthetic", "virtualRecording"})
#: EXIF Software / XMP CreatorTool substrings (lower case): editors and face-swap/"nudify" apps
EDITORS = (
    "photoshop",
    "gimp",
    "lightroom",
    "affinity",
    "pixelmator",
    "paint.net",
    "snapseed",
    "picsart",
    "meitu",
    "facetune",
    "canva",
    "photopea",
    "fotor",
    "remini",
)
FACE_SWAP = (
    "reface",
    "faceapp",
    "deepfacelab",
    "faceswap",
    "facefusion",
    "roop",
    "deepswap",
    "swapface",
    "deepnude",
    "nudify",
    "undress",
    "clothoff",
    "stable diffusion",
    "midjourney",
    "dall-e",
    "dall·e",
    "firefly",
    "comfyui",
    "automatic1111",
    "invokeai",
    "novelai",
)


def _short(uri: Any) -> str:
    return str(uri).rstrip("/").rsplit("/", 1)[-1]


def _section(meta: dict[str, Any], name: str) -> dict[str, Any]:
    value = meta.get(name)
    return value if isinstance(value, dict) else {}


class ProvenanceDetector(Detector):
    name = "provenance"
    version = "1"
    media_types = ("*",)

    def parameters(self) -> dict[str, Any]:
        return {
            "ai_origin_types": sorted(AI_ORIGIN),
            "ai_edit_types": sorted(AI_EDIT),
            "synthetic_types": sorted(SYNTHETIC),
            "editor_strings": list(EDITORS),
            "generator_and_face_swap_strings": list(FACE_SWAP),
        }

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        meta = item.metadata
        if meta is None:
            return DetectorResult(
                [
                    Finding(
                        "provenance",
                        STATUS_NOT_APPLICABLE,
                        "metadata record",
                        "",
                        None,
                        None,
                        "no metadata record for this item: run 'forensic analyze --metadata' first",
                        "메타데이터 기록이 없습니다: 먼저 "
                        "'forensic analyze --metadata'를 실행하십시오",
                        "",
                    )
                ]
            )
        return DetectorResult(
            [
                self._c2pa(meta),
                self._source_type(meta),
                self._generator(meta),
                self._software(meta),
                self._consistency(meta),
            ]
        )

    def _c2pa(self, meta: dict[str, Any]) -> Finding:
        c2 = _section(meta, "c2pa")
        lim = (
            "A C2PA manifest is a signed statement by its signer, not by this tool; an untrusted "
            "signer proves only that the manifest is intact. Stripping the manifest is trivial "
            "(messengers do it), so its absence proves nothing."
        )
        method, ref = "C2PA manifest validation (c2pa-python) and its actions", C2PA_REF
        if not c2.get("present"):
            return Finding(
                "provenance.c2pa",
                STATUS_NO_EVIDENCE,
                method,
                ref,
                "none",
                None,
                "no content credentials (C2PA) found (this does not prove absence of AI origin"
                " or editing)",
                "콘텐츠 자격증명(C2PA)이 없습니다 (AI 생성·편집이 없었다는 증명은 아닙니다)",
                lim,
            )
        state = str(c2.get("state", ""))
        types = [_short(t) for t in c2.get("digital_source_types", []) or []]
        valid = state in ("valid", "trusted")
        extra = {
            "state": state,
            "digital_source_types": types,
            "claim_generator": c2.get("claim_generator"),
        }
        hit_ai = sorted(set(types) & AI_ORIGIN)
        hit_edit = sorted(set(types) & AI_EDIT)
        hit_syn = sorted(set(types) & SYNTHETIC)
        if state == "invalid":
            return Finding(
                "provenance.c2pa",
                STATUS_INDICATES,
                method,
                ref,
                state,
                "valid",
                "content credentials present but not valid: consistent with the file "
                "having changed after signing, or a damaged manifest",
                "콘텐츠 자격증명이 있으나 유효하지 않습니다: 서명 후 파일이 변경되었거나 "
                "매니페스트가 손상된 것과 일치합니다",
                lim,
                extra=extra,
            )
        if not valid:
            return Finding(
                "provenance.c2pa",
                STATUS_INFO,
                method,
                ref,
                state,
                None,
                f"content credentials present but not validated here ({state}; a remote "
                "manifest is never fetched: nothing leaves this machine)",
                f"콘텐츠 자격증명이 있으나 여기서 검증되지 않았습니다({state}; 원격 매니페스트는 "
                "가져오지 않습니다: 어떤 데이터도 이 컴퓨터를 떠나지 않습니다)",
                lim,
                extra=extra,
            )
        if hit_ai or hit_edit or hit_syn:
            what_en = (
                "created by generative AI"
                if hit_ai
                else "edited with generative AI"
                if hit_edit
                else "created or composited algorithmically (synthetic)"
            )
            what_ko = (
                "생성형 AI로 생성됨"
                if hit_ai
                else "생성형 AI로 편집됨"
                if hit_edit
                else "알고리즘으로 생성·합성됨(합성 미디어)"
            )
            return Finding(
                "provenance.c2pa",
                STATUS_INDICATES,
                method,
                ref,
                hit_ai + hit_edit + hit_syn,
                "declared digitalSourceType",
                f"valid content credentials declare the image {what_en} "
                f"({', '.join(hit_ai + hit_edit + hit_syn)}); signer: "
                f"{'on a trust list' if c2.get('signer_trusted') else 'not on a trust list'}. "
                "This is positive proof of what the signer declared.",
                f"유효한 콘텐츠 자격증명이 이 이미지가 {what_ko}이라고 선언합니다 "
                f"({', '.join(hit_ai + hit_edit + hit_syn)}). 서명자가 선언한 내용에 대한 "
                "적극적 증거입니다.",
                lim,
                positive_proof=True,
                extra=extra,
            )
        return Finding(
            "provenance.c2pa",
            STATUS_INFO,
            method,
            ref,
            types or "no source type",
            None,
            "valid content credentials without an AI or synthetic source type",
            "AI·합성 출처 유형이 없는 유효한 콘텐츠 자격증명",
            lim,
            extra=extra,
        )

    def _source_type(self, meta: dict[str, Any]) -> Finding:
        xmp = _section(meta, "xmp")
        value = xmp.get("digital_source_type")
        method = "XMP Iptc4xmpExt:DigitalSourceType"
        lim = "A claim written into the file: anyone can add or remove it."
        if not value:
            return Finding(
                "provenance.source_type",
                STATUS_NO_EVIDENCE,
                method,
                IPTC_REF,
                None,
                None,
                "no IPTC digital source type in XMP (this does not prove absence of AI origin)",
                "XMP에 IPTC 디지털 출처 유형이 없습니다 (AI 생성이 없었다는 증명은 아닙니다)",
                lim,
            )
        short = _short(value)
        if short in AI_ORIGIN | AI_EDIT | SYNTHETIC:
            return Finding(
                "provenance.source_type",
                STATUS_INDICATES,
                method,
                IPTC_REF,
                short,
                None,
                f"the file declares digital source type '{short}' "
                f"({xmp.get('digital_source_meaning') or ''}): consistent with AI or synthetic "
                "origin as declared in the file",
                f"파일이 디지털 출처 유형 '{short}'을(를) 선언합니다: 파일에 선언된 대로 AI·합성 "
                "출처와 일치합니다",
                lim,
                positive_proof=True,
            )
        return Finding(
            "provenance.source_type",
            STATUS_INFO,
            method,
            IPTC_REF,
            short,
            None,
            f"the file declares digital source type '{short}'",
            f"파일이 디지털 출처 유형 '{short}'을(를) 선언합니다",
            lim,
        )

    def _generator(self, meta: dict[str, Any]) -> Finding:
        gen = _section(meta, "generator")
        found = [g for g in gen.get("generators", []) or [] if isinstance(g, dict)]
        method = "AI generator parameters in PNG text chunks / EXIF / XMP"
        ref = "AUTOMATIC1111, ComfyUI, InvokeAI, NovelAI metadata formats (sd-parsers)"
        lim = "Text in the file: anyone can add or remove it; messengers strip it."
        if not gen.get("ai_generator_claimed") or not found:
            return Finding(
                "provenance.generator",
                STATUS_NO_EVIDENCE,
                method,
                ref,
                None,
                None,
                "no AI generator metadata (this does not prove absence of AI origin)",
                "AI 생성기 메타데이터가 없습니다 (AI 생성이 없었다는 증명은 아닙니다)",
                lim,
            )
        names = sorted({str(g.get("generator")) for g in found})
        return Finding(
            "provenance.generator",
            STATUS_INDICATES,
            method,
            ref,
            names,
            None,
            f"the file carries AI image-generator parameters ({', '.join(names)}): "
            "positive evidence that a generator wrote this file, as the file states",
            f"파일에 AI 이미지 생성기 매개변수가 있습니다({', '.join(names)}): "
            "파일이 밝힌 대로 생성기가 이 파일을 기록했다는 적극적 증거입니다",
            lim,
            positive_proof=True,
            extra={
                "generators": [
                    {"generator": g.get("generator"), "key": g.get("key")} for g in found
                ]
            },
        )

    def _software(self, meta: dict[str, Any]) -> Finding:
        exif = _section(_section(meta, "exif"), "fields")
        xmp = _section(meta, "xmp")
        texts = [str(t) for t in (exif.get("software"), xmp.get("creator_tool")) if t]
        method = "EXIF Software / XMP CreatorTool string match"
        ref = "CIPA DC-008 (Exif 2.32) tag 0x0131 Software; XMP Basic CreatorTool"
        lim = "A claim written into the file; many editors leave no trace, and it is easy to edit."
        low = " ".join(texts).lower()
        swap = [s for s in FACE_SWAP if s in low]
        edit = [s for s in EDITORS if s in low]
        if swap:
            return Finding(
                "provenance.software",
                STATUS_INDICATES,
                method,
                ref,
                texts,
                None,
                f"software named in the file is a face-swap, 'nudify' or generator tool "
                f"({', '.join(swap)}): indicates processing by such a tool, as the file states",
                "파일에 기록된 소프트웨어가 얼굴 합성·'누디파이'·생성 도구입니다"
                f"({', '.join(swap)}): "
                "파일에 기록된 대로 그런 도구로 처리되었음을 나타냅니다",
                lim,
                positive_proof=True,
            )
        if edit:
            return Finding(
                "provenance.software",
                STATUS_INFO,
                method,
                ref,
                texts,
                None,
                f"software named in the file is an image editor ({', '.join(edit)}): consistent "
                "with the file having been saved by an editor (not by itself evidence of "
                "manipulation)",
                f"파일에 기록된 소프트웨어가 이미지 편집기입니다({', '.join(edit)}): 편집기로 "
                "저장된 것과 일치합니다 (그 자체로 조작의 증거는 아닙니다)",
                lim,
            )
        return Finding(
            "provenance.software",
            STATUS_NO_EVIDENCE if not texts else STATUS_INFO,
            method,
            ref,
            texts or None,
            None,
            "no editor or face-swap software named in the file (this does not prove absence)",
            "파일에 편집기나 얼굴 합성 소프트웨어가 기록되어 있지 않습니다 "
            "(부재의 증명은 아닙니다)",
            lim,
        )

    def _consistency(self, meta: dict[str, Any]) -> Finding:
        exif = _section(_section(meta, "exif"), "fields")
        quant = _section(meta, "jpeg_quant")
        thumb = _section(meta, "thumbnail")
        notes_en: list[str] = []
        notes_ko: list[str] = []
        camera = " ".join(str(exif.get(k) or "") for k in ("make", "model")).strip()
        if camera and quant.get("family") == "ijg_standard":
            notes_en.append(
                f"camera '{camera}' named in EXIF, but the JPEG uses IJG standard tables "
                f"(quality {quant.get('estimated_quality')}): consistent with re-encoding after "
                "capture"
            )
            notes_ko.append(
                f"EXIF에 카메라 '{camera}'가 기록되어 있으나 JPEG가 IJG 표준 양자화 테이블을 "
                "사용합니다: 촬영 후 재인코딩과 일치합니다"
            )
        if thumb.get("present") and thumb.get("differs"):
            notes_en.append(
                f"the embedded EXIF thumbnail differs from the main image (mean difference "
                f"{thumb.get('mean_abs_difference')}): consistent with the main image having "
                "been changed after the thumbnail was written"
            )
            notes_ko.append(
                "내장 EXIF 썸네일이 본 이미지와 다릅니다: "
                "썸네일 기록 후 본 이미지가 변경된 것과 일치합니다"
            )
        original, modified = exif.get("datetime_original"), exif.get("datetime")
        if original and modified and str(modified) > str(original):
            notes_en.append(
                f"EXIF modification time {modified} is later than the capture time {original}: "
                "consistent with saving after capture"
            )
            notes_ko.append(
                f"EXIF 수정 시각 {modified}이(가) 촬영 시각 {original}보다 늦습니다: "
                "촬영 후 저장과 일치합니다"
            )
        method = "cross-check: EXIF camera vs. quantisation tables, EXIF thumbnail vs. image, dates"
        ref = (
            "Kee, Johnson & Farid, 'Digital image authentication from JPEG headers', IEEE TIFS 2011"
        )
        lim = (
            "Reported for the examiner without a decision: on untouched real photos these "
            "cross-checks fire too often (see docs/detection-evaluation.md) to 'indicate' "
            "anything on their own. Inconsistencies show processing after capture (including "
            "ordinary editing or "
            "messenger re-compression), not what was changed."
        )
        if not notes_en:
            return Finding(
                "provenance.consistency",
                STATUS_NO_EVIDENCE,
                method,
                ref,
                [],
                None,
                "no metadata inconsistency found (this does not prove absence of processing)",
                "메타데이터 불일치가 발견되지 않았습니다 (처리가 없었다는 증명은 아닙니다)",
                lim,
            )
        return Finding(
            "provenance.consistency",
            STATUS_INFO,
            method,
            ref,
            notes_en,
            None,
            "; ".join(notes_en),
            "; ".join(notes_ko),
            lim,
        )
