"""A lab's own ONNX classifier, run on the CPU: a user-supplied model score, nothing more.

Configured in ``forensic.toml`` (the examiner's config folder, as ``[timestamp]``)::

    [analysis.onnx]
    model = "/path/model.onnx"        # relative paths: to the config folder
    sha256 = "..."                    # optional: refuse any other file
    input_size = 224                  # the model's input is 1 x 3 x size x size (NCHW) RGB
    mean = [0.485, 0.456, 0.406]      # per channel, on 0..1 values
    std = [0.229, 0.224, 0.225]
    output = "probability of face swap"   # what the first output means
    label = "face swap"
    threshold = 0.5
    output_index = 0                  # when the output holds several values
    measured_fpr = 0.008              # the lab's own measurement (quoted as the lab's claim)
    measured_fpr_source = "lab validation report 2025-03, 2,000 real photos"

Without ``[analysis.onnx]`` the detector does not run (it is listed as not applicable). The
model file's SHA-256 and size go into the parameters and the finding. forensic has not
measured any such model's error rates: the finding says so, and quotes ``measured_fpr`` as
the lab's claim when the lab supplies one. ``onnxruntime`` is an optional extra, imported only
here; without it the finding is ``not_applicable``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from forensic.analysis.interface import (
    STATUS_INDICATES,
    STATUS_INFO,
    STATUS_NO_EVIDENCE,
    AnalysisInput,
    Detector,
    DetectorResult,
    Finding,
    not_applicable,
)
from forensic.analysis.pixels import MAX_PIXELS, NotAnalysable, decode
from forensic.custody import config_home

CONFIG_FILE = "forensic.toml"
SIGNAL = "onnx.model"
#: a status other than info needs the lab's measured false-positive rate at or below this
DECISION_FPR = 0.01
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/bmp")
REF = (
    "user-supplied ONNX model (ONNX specification, onnx.ai; run with ONNX Runtime on the CPU); "
    "method and validation are the lab's, not forensic's"
)
NOT_MEASURED = (
    "forensic has NOT measured this model's error rates; its score is only as good as the "
    "lab's own validation"
)


class ConfigError(Exception):
    """The ``[analysis.onnx]`` table cannot be used; ``str(exc)`` names the file and cause."""


@dataclass(frozen=True)
class OnnxConfig:
    config_file: Path
    model: Path
    sha256: str | None
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    output: str
    label: str
    threshold: float | None
    output_index: int | None
    measured_fpr: float | None
    measured_fpr_source: str | None


def _triple(value: Any, name: str, default: float, where: Path) -> tuple[float, float, float]:
    if value is None:
        return (default, default, default)
    items = value if isinstance(value, list) else [value]
    try:
        nums = [float(v) for v in items]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: [analysis.onnx] {name} must be numbers") from exc
    if len(nums) == 1:
        nums *= 3
    if len(nums) != 3 or not all(math.isfinite(n) for n in nums):
        raise ConfigError(f"{where}: [analysis.onnx] {name} must be one number or three")
    return (nums[0], nums[1], nums[2])


def _number(table: dict[str, Any], key: str, where: Path) -> float | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: [analysis.onnx] {key} must be a number, not {value!r}")
    return float(value)


def load_onnx_config(home: Path | None = None) -> OnnxConfig | None:
    """``[analysis.onnx]`` of ``forensic.toml``; None when it is absent."""
    path = (home or config_home()) / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    analysis = doc.get("analysis")
    table = analysis.get("onnx") if isinstance(analysis, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict) or not isinstance(table.get("model"), str):
        raise ConfigError(f'{path}: [analysis.onnx] needs model = "/path/model.onnx"')
    model = Path(table["model"]).expanduser()
    if not model.is_absolute():
        model = path.parent / model
    size = table.get("input_size", 224)
    if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 4096:
        raise ConfigError(f"{path}: [analysis.onnx] input_size must be an integer 8-4096")
    index = table.get("output_index")
    if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
        raise ConfigError(f"{path}: [analysis.onnx] output_index must be an integer >= 0")
    sha = table.get("sha256")
    if sha is not None and not (
        isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdefABCDEF" for c in sha)
    ):
        raise ConfigError(f"{path}: [analysis.onnx] sha256 must be 64 hex digits")
    fpr = _number(table, "measured_fpr", path)
    if fpr is not None and not 0.0 <= fpr <= 1.0:
        raise ConfigError(f"{path}: [analysis.onnx] measured_fpr must be between 0 and 1")
    std = _triple(table.get("std"), "std", 1.0, path)
    if any(s == 0 for s in std):
        raise ConfigError(f"{path}: [analysis.onnx] std must not be 0")
    label = str(table.get("label") or "the model's class")
    return OnnxConfig(
        config_file=path,
        model=model,
        sha256=sha.lower() if isinstance(sha, str) else None,
        input_size=size,
        mean=_triple(table.get("mean"), "mean", 0.0, path),
        std=std,
        output=str(table.get("output") or f"score for {label}"),
        label=label,
        threshold=_number(table, "threshold", path),
        output_index=index,
        measured_fpr=fpr,
        measured_fpr_source=str(table["measured_fpr_source"])
        if table.get("measured_fpr_source")
        else None,
    )


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of the model file (remembered per path, size and modification time)."""
    st = path.stat()
    return _sha256_of(str(path), st.st_size, st.st_mtime_ns), st.st_size


@lru_cache(maxsize=8)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    """A pure function of the file's identity: a changed file has a new size or time."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_input(rgb: NDArray[np.uint8], cfg: OnnxConfig) -> NDArray[np.float32]:
    """1 x 3 x size x size float32: bilinear resize, 0..1, (x - mean) / std per channel."""
    im = Image.fromarray(rgb).resize((cfg.input_size, cfg.input_size), Image.Resampling.BILINEAR)
    x: NDArray[np.float32] = np.asarray(im, dtype=np.float32) / np.float32(255.0)
    mean = np.array(cfg.mean, dtype=np.float32)
    std = np.array(cfg.std, dtype=np.float32)
    out: NDArray[np.float32] = np.ascontiguousarray(
        ((x - mean) / std).transpose(2, 0, 1)[None], dtype=np.float32
    )
    return out


def _shape_ok(shape: Any, want: tuple[int, ...]) -> bool:
    """A declared input shape accepts ``want`` (symbolic or unknown dimensions accept any)."""
    if not isinstance(shape, (list, tuple)) or len(shape) != len(want):
        return False
    return all(not isinstance(d, int) or d in (want[i], -1) for i, d in enumerate(shape))


class OnnxDetector(Detector):
    name = "onnx"
    version = "1"
    media_types = IMAGE_TYPES

    def __init__(self, home: Path | None = None) -> None:
        """``home``: the config folder (default: ``FORENSIC_HOME`` / XDG, read at each use)."""
        self._home = home

    def _config(self) -> OnnxConfig | None:
        return load_onnx_config(self._home)

    def accepts(self, media_type: str) -> bool:
        """Only with ``[analysis.onnx]`` configured (a broken table runs, to say what is wrong)."""
        if media_type not in self.media_types:
            return False
        try:
            return self._config() is not None
        except ConfigError:
            return True

    def parameters(self) -> dict[str, Any]:
        try:
            cfg = self._config()
        except ConfigError as exc:
            return {"config_error": str(exc)}
        if cfg is None:
            return {"configured": False}
        out: dict[str, Any] = {
            "config_file": str(cfg.config_file),
            "model": str(cfg.model),
            "expected_sha256": cfg.sha256,
            "input_size": cfg.input_size,
            "layout": "NCHW RGB float32, bilinear resize, (x/255 - mean) / std",
            "mean": list(cfg.mean),
            "std": list(cfg.std),
            "output": cfg.output,
            "output_index": cfg.output_index,
            "label": cfg.label,
            "threshold": cfg.threshold,
            "lab_measured_fpr": cfg.measured_fpr,
            "lab_measured_fpr_source": cfg.measured_fpr_source,
            "execution_provider": "CPUExecutionProvider",
            "max_pixels": MAX_PIXELS,
        }
        try:
            out["model_sha256"], out["model_size"] = file_digest(cfg.model)
        except OSError as exc:
            out["model_error"] = f"{cfg.model}: {exc.strerror or exc}"
        return out

    def libraries(self) -> dict[str, str]:
        out = {"numpy": np.__version__}
        try:
            out["onnxruntime"] = importlib.metadata.version("onnxruntime")
        except importlib.metadata.PackageNotFoundError:
            out["onnxruntime"] = "not installed"
        return out

    def analyze(self, item: AnalysisInput) -> DetectorResult:
        return DetectorResult([self._finding(item)])

    def _finding(self, item: AnalysisInput) -> Finding:
        try:
            cfg = self._config()
        except ConfigError as exc:
            return not_applicable(SIGNAL, str(exc), f"ONNX 설정 오류: {exc}")
        if cfg is None:
            return not_applicable(
                SIGNAL,
                "no model configured ([analysis.onnx] model in forensic.toml)",
                "설정된 모델이 없습니다(forensic.toml의 [analysis.onnx] model)",
            )
        model = cfg.model
        try:
            digest, size = file_digest(model)
        except OSError as exc:
            why = exc.strerror or str(exc)
            return not_applicable(
                SIGNAL,
                f"{model}: the model file cannot be read: {why}",
                f"{model}: 모델 파일을 읽을 수 없습니다: {why}",
            )
        model_rec = {"path": str(model), "sha256": digest, "size": size}
        if cfg.sha256 is not None and digest != cfg.sha256:
            return not_applicable(
                SIGNAL,
                f"{model}: SHA-256 {digest} does not match the configured {cfg.sha256}: "
                "not run (a different model file)",
                f"{model}: SHA-256 {digest}이(가) 설정된 {cfg.sha256}와 달라 실행하지 "
                "않았습니다(다른 모델 파일)",
            )
        try:
            import onnxruntime as ort
        except ImportError:
            return not_applicable(
                SIGNAL,
                "onnxruntime is not installed (pip install 'forensic[onnx]'): the model was "
                "not run",
                "onnxruntime이 설치되어 있지 않아 모델을 실행하지 않았습니다"
                "(pip install 'forensic[onnx]')",
            )
        try:
            decoded = decode(item.path.read_bytes())
        except NotAnalysable as exc:
            return not_applicable(SIGNAL, exc.reason_en, exc.reason_ko)
        except OSError as exc:
            why = exc.strerror or str(exc)
            return not_applicable(SIGNAL, f"{item.path.name}: {why}", f"{item.path.name}: {why}")
        want = (1, 3, cfg.input_size, cfg.input_size)
        try:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1  # deterministic sums, and one core per item
            options.inter_op_num_threads = 1
            options.log_severity_level = 3  # errors only: the finding says what went wrong
            session = ort.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
            inputs = session.get_inputs()
            if len(inputs) != 1 or not _shape_ok(inputs[0].shape, want):
                shapes = ", ".join(f"{i.name} {i.shape}" for i in inputs)
                return not_applicable(
                    SIGNAL,
                    f"{model}: the model takes {shapes or 'no input'}, not one {list(want)} "
                    "input (input_size in [analysis.onnx])",
                    f"{model}: 모델 입력이 {shapes or '없음'}으로 {list(want)} 입력 하나가 "
                    "아닙니다([analysis.onnx]의 input_size)",
                )
            if "float" not in str(inputs[0].type):
                return not_applicable(
                    SIGNAL,
                    f"{model}: the model input is {inputs[0].type}, not a float tensor",
                    f"{model}: 모델 입력이 {inputs[0].type}으로 실수 텐서가 아닙니다",
                )
            outputs = session.run(None, {inputs[0].name: model_input(decoded.rgb, cfg)})
        except Exception as exc:  # onnxruntime raises its own classes for bad models/shapes
            why = " ".join(str(exc).split())[:300]
            return not_applicable(
                SIGNAL,
                f"{model}: the model cannot be run: {type(exc).__name__}: {why}",
                f"{model}: 모델을 실행할 수 없습니다: {type(exc).__name__}: {why}",
            )
        score = self._score(outputs, cfg)
        if isinstance(score, str):
            return not_applicable(SIGNAL, f"{model}: {score}", f"{model}: 출력 오류: {score}")
        return self._scored(score, cfg, model_rec, decoded.notes)

    @staticmethod
    def _score(outputs: list[Any], cfg: OnnxConfig) -> float | str:
        """The score, or why the output cannot be read as one."""
        if not outputs:
            return "the model returned no output"
        try:
            arr = np.asarray(outputs[0])
        except Exception:
            return f"the first output is not a tensor ({type(outputs[0]).__name__})"
        if arr.dtype.kind not in "fiub":
            return f"the first output is not numeric (dtype {arr.dtype})"
        flat = arr.astype(np.float64).ravel()
        if cfg.output_index is None and flat.size != 1:
            return f"the first output holds {flat.size} values: set output_index in [analysis.onnx]"
        index = cfg.output_index or 0
        if index >= flat.size:
            return f"output_index {index} is outside the output's {flat.size} values"
        value = float(flat[index])
        if not math.isfinite(value):
            return f"the output is not a finite number ({value})"
        return value

    def _scored(
        self, score: float, cfg: OnnxConfig, model_rec: dict[str, Any], notes: list[str]
    ) -> Finding:
        lab = cfg.measured_fpr is not None and cfg.measured_fpr <= DECISION_FPR
        above = cfg.threshold is not None and score >= cfg.threshold
        claim = (
            f"the lab states a false-positive rate of {cfg.measured_fpr:g} at this threshold"
            + (f" ({cfg.measured_fpr_source})" if cfg.measured_fpr_source else "")
            + "; forensic has not verified it"
            if cfg.measured_fpr is not None
            else NOT_MEASURED
        )
        claim_ko = (
            f"연구소는 이 임계값에서 오탐률 {cfg.measured_fpr:g}를 밝혔습니다"
            + (f" ({cfg.measured_fpr_source})" if cfg.measured_fpr_source else "")
            + ". forensic은 이를 검증하지 않았습니다"
            if cfg.measured_fpr is not None
            else "forensic은 이 모델의 오류율을 측정하지 않았습니다"
        )
        base = f"user-supplied model score {score:.4f} ({cfg.output})"
        base_ko = f"사용자 제공 모델 점수 {score:.4f} ({cfg.output})"
        if cfg.threshold is None:
            status, en, ko = (
                STATUS_INFO,
                f"{base}; no threshold configured, no decision; {claim}",
                f"{base_ko}. 임계값이 설정되지 않아 판정하지 않습니다. {claim_ko}",
            )
        elif above and lab:
            status, en, ko = (
                STATUS_INDICATES,
                f"{base} is at or above the configured threshold {cfg.threshold:g}: the lab's "
                f"model indicates {cfg.label}; {claim}",
                f"{base_ko}가 설정된 임계값 {cfg.threshold:g} 이상입니다: 연구소 모델은 "
                f"{cfg.label}을(를) 나타냅니다. {claim_ko}",
            )
        elif not above and lab:
            status, en, ko = (
                STATUS_NO_EVIDENCE,
                f"{base} is below the configured threshold {cfg.threshold:g}: no evidence of "
                f"{cfg.label} from the lab's model (this does not prove absence); {claim}",
                f"{base_ko}가 설정된 임계값 {cfg.threshold:g} 미만입니다: 연구소 모델로는 "
                f"{cfg.label}의 증거가 없습니다(부재의 증명은 아닙니다). {claim_ko}",
            )
        else:
            side = "at or above" if above else "below"
            side_ko = "이상" if above else "미만"
            status, en, ko = (
                STATUS_INFO,
                f"{base} is {side} the configured threshold {cfg.threshold:g}; no decision "
                f"without a measured false-positive rate of at most {DECISION_FPR:.0%}; {claim}",
                f"{base_ko}가 설정된 임계값 {cfg.threshold:g} {side_ko}입니다. 오탐률이 "
                f"{DECISION_FPR:.0%} 이하로 측정되지 않아 판정하지 않습니다. {claim_ko}",
            )
        extra: dict[str, Any] = {
            "model": model_rec,
            "label": cfg.label,
            "output": cfg.output,
            "input_size": cfg.input_size,
            "lab_measured_fpr": {
                "value": cfg.measured_fpr,
                "source": cfg.measured_fpr_source,
                "note": "the lab's claim, quoted; not measured or verified by forensic",
            }
            if cfg.measured_fpr is not None
            else None,
        }
        if notes:
            extra["notes"] = notes
        return Finding(
            SIGNAL,
            status,
            f"ONNX model {cfg.model.name} (SHA-256 {model_rec['sha256'][:16]}...) on the whole "
            f"image resized to {cfg.input_size}x{cfg.input_size}, CPU",
            REF,
            round(score, 6),
            cfg.threshold,
            en,
            ko,
            "A model supplied by the user: forensic does not know its training data, its "
            "behaviour on re-compressed or resized images or on people unlike its training "
            "set, and has not measured its error rates. "
            + (
                "The false-positive rate quoted is the lab's claim."
                if cfg.measured_fpr is not None
                else "No false-positive rate was supplied."
            ),
            extra=extra,
        )
