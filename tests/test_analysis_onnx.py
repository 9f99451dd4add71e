"""The optional ONNX detector: a tiny real model built with ``onnx`` at test time (mean of the
normalised input -> sigmoid), configured in forensic.toml, run through the CLI; every failure
mode gives a not-applicable finding that names the model file and the cause."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from forensic.analysis.interface import AnalysisInput
from forensic.analysis.onnx_model import OnnxDetector, load_onnx_config, model_input
from forensic.case import Case
from tests.conftest import Cli
from tests.mediatools import capture

SIZE = 32


def build_model(
    path: Path, size: int = SIZE, string_output: bool = False, outputs: int = 1
) -> Path:
    """score = sigmoid(mean(x)) over a 1x3xSxS input (or a string / several values)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], keepdims=0)]
    nodes.append(helper.make_node("Sigmoid", ["m"], ["s"]))
    out_type, out_shape = TensorProto.FLOAT, []
    if string_output:
        nodes.append(helper.make_node("Cast", ["s"], ["score"], to=TensorProto.STRING))
        out_type = TensorProto.STRING
    elif outputs > 1:
        nodes.append(helper.make_node("Unsqueeze", ["s", "axes"], ["u"]))
        nodes.append(helper.make_node("Tile", ["u", "reps"], ["score"]))
        out_shape = [outputs]
    else:
        nodes.append(helper.make_node("Identity", ["s"], ["score"]))
    inits = []
    if outputs > 1:
        inits.append(helper.make_tensor("axes", TensorProto.INT64, [1], [0]))
        inits.append(helper.make_tensor("reps", TensorProto.INT64, [1], [outputs]))
    y = helper.make_tensor_value_info("score", out_type, out_shape)
    graph = helper.make_graph(nodes, "mean-sigmoid", [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def configure(home: Path, **fields: Any) -> None:
    lines = ["[analysis.onnx]"]
    for k, v in fields.items():
        lines.append(f"{k} = {json.dumps(v)}")
    home.mkdir(parents=True, exist_ok=True)
    (home / "forensic.toml").write_text("\n".join(lines) + "\n", "utf-8")


def image(path: Path, level: int) -> Path:
    rng = np.random.default_rng(level)
    arr = np.clip(rng.normal(level, 20, (120, 160, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path)
    return path


def expected_score(path: Path, mean: float, std: float) -> float:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    x = np.asarray(Image.fromarray(rgb).resize((SIZE, SIZE), Image.Resampling.BILINEAR))
    z = ((x.astype(np.float64) / 255.0 - mean) / std).mean()
    return float(1 / (1 + np.exp(-z)))


def test_cli_model_score_recorded_with_hash(
    tmp_path: Path, cli: Cli, case_dir: Path, forensic_env: Path
) -> None:
    model = build_model(tmp_path / "lab-model.onnx")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    bright, dark = image(tmp_path / "bright.png", 200), image(tmp_path / "dark.png", 40)
    configure(
        forensic_env,
        model=str(model),
        sha256=digest,
        input_size=SIZE,
        mean=[0.5, 0.5, 0.5],
        std=0.25,
        output="probability of test class",
        label="test class",
        threshold=0.5,
        measured_fpr=0.004,
        measured_fpr_source="lab validation 2025, 500 real photos",
    )
    acquired = capture(cli, case_dir, bright, dark)
    res = cli("analyze", "--detect", "--all", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    out = {a["item"]: a for a in json.loads(res.stdout)["analysis"]}
    hi = out[acquired[str(bright)]]["detectors"]["onnx"]["findings"][0]
    lo = out[acquired[str(dark)]]["detectors"]["onnx"]["findings"][0]
    assert hi["signal"] == "onnx.model" and hi["status"] == "indicates"
    assert lo["status"] == "no_evidence" and "does not prove absence" in lo["indicates"]["en"]
    assert hi["value"] == pytest.approx(expected_score(bright, 0.5, 0.25), abs=1e-4)
    assert lo["value"] == pytest.approx(expected_score(dark, 0.5, 0.25), abs=1e-4)
    assert hi["threshold"] == 0.5
    assert "user-supplied model score" in hi["indicates"]["en"]
    assert "forensic has not verified it" in hi["indicates"]["en"]
    assert hi["details"]["model"] == {
        "path": str(model),
        "sha256": digest,
        "size": model.stat().st_size,
    }
    assert hi["details"]["lab_measured_fpr"]["value"] == 0.004
    assert hi["measured_error_rates"].startswith("not measured")
    # stored and logged: parameters carry the model's hash and size
    sha = acquired[str(bright)]
    stored = json.loads((case_dir / "analysis" / sha / "onnx.json").read_text("utf-8"))
    params = stored["detector"]["parameters"]
    assert params["model_sha256"] == digest and params["model_size"] == model.stat().st_size
    assert stored["detector"]["libraries"]["onnxruntime"]
    entry = [e for e in Case.open(case_dir).entries() if e.action == "analysis"][-1]
    assert entry.details["detectors"]["onnx"]["parameters"]["model_sha256"] == digest
    assert cli("verify", "--case", case_dir).exit_code == 0
    # no measured rate from the lab: a score and the plain statement, no decision
    configure(forensic_env, model=str(model), input_size=SIZE, threshold=0.5)
    res = cli("analyze", "--detect", "--case", case_dir, sha[:12])
    assert res.exit_code == 0
    assert "[info] onnx.model: user-supplied model score" in res.stdout
    assert "NOT measured" in res.stdout


def test_unconfigured_does_not_run(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    [sha] = capture(cli, case_dir, image(tmp_path / "a.png", 120)).values()
    res = cli("analyze", "--detect", "--case", case_dir, "--json", sha[:12])
    [a] = json.loads(res.stdout)["analysis"]
    assert "onnx" not in a["detectors"] and "onnx" in a["not_applicable"]


def test_failure_modes_name_the_file_and_cause(
    tmp_path: Path, forensic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    img = image(tmp_path / "a.png", 120)
    good = build_model(tmp_path / "good.onnx")

    def run(**fields: Any) -> str:
        configure(forensic_env, **fields)
        [f] = OnnxDetector().analyze(AnalysisInput(img, "image/png", None)).findings
        assert f.status == "not_applicable" and f.text_ko
        return f.text_en

    missing = tmp_path / "missing.onnx"
    assert str(missing) in run(model=str(missing)) and "cannot be read" in run(model=str(missing))
    text = run(model=str(good), sha256="0" * 64)
    assert str(good) in text and "does not match the configured" in text
    text = run(model=str(good), input_size=64)  # the model takes 32x32
    assert str(good) in text and "[1, 3, 64, 64]" in text
    strings = build_model(tmp_path / "strings.onnx", string_output=True)
    assert "not numeric" in run(model=str(strings), input_size=SIZE)
    several = build_model(tmp_path / "several.onnx", outputs=4)
    assert "set output_index" in run(model=str(several), input_size=SIZE)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model at all")
    text = run(model=str(junk), input_size=SIZE)
    assert str(junk) in text and "cannot be run" in text
    # several values with output_index: scored
    configure(forensic_env, model=str(several), input_size=SIZE, output_index=2)
    [f] = OnnxDetector().analyze(AnalysisInput(img, "image/png", None)).findings
    assert f.status == "info" and 0 < f.value < 1
    # a broken table: the detector runs to say so; parameters() never raises
    (forensic_env / "forensic.toml").write_text("[analysis.onnx]\nmodel = 3\n", "utf-8")
    det = OnnxDetector()
    assert det.accepts("image/png") and not det.accepts("video/mp4")
    assert "forensic.toml" in det.parameters()["config_error"]
    [f] = det.analyze(AnalysisInput(img, "image/png", None)).findings
    assert f.status == "not_applicable" and "needs model" in f.text_en
    (forensic_env / "forensic.toml").write_text("[analysis.onnx\n", "utf-8")
    [f] = det.analyze(AnalysisInput(img, "image/png", None)).findings
    assert f.status == "not_applicable" and "forensic.toml: cannot be read" in f.text_en
    # onnxruntime not installed: said plainly
    configure(forensic_env, model=str(good), input_size=SIZE)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    [f] = OnnxDetector().analyze(AnalysisInput(img, "image/png", None)).findings
    assert f.status == "not_applicable" and "onnxruntime is not installed" in f.text_en


def test_config_and_input_layout(tmp_path: Path) -> None:
    assert load_onnx_config(tmp_path) is None  # no forensic.toml
    configure(tmp_path, model="models/m.onnx", mean=0.5, std=[0.5, 0.25, 1.0], input_size=8)
    cfg = load_onnx_config(tmp_path)
    assert cfg is not None and cfg.model == tmp_path / "models/m.onnx"  # relative to the folder
    rgb = np.zeros((10, 10, 3), np.uint8)
    rgb[..., 0] = 255
    x = model_input(rgb, cfg)
    assert x.shape == (1, 3, 8, 8) and x.dtype == np.float32
    assert np.allclose(x[0, 0], 1.0) and np.allclose(x[0, 1], -2.0) and np.allclose(x[0, 2], -0.5)
