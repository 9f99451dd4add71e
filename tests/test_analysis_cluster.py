"""Detection on a real Dask cluster over TLS: the coordinator plans and commits, workers compute.

One ``distributed.LocalCluster`` per test module (two worker processes, one thread each, TLS
with certificates ``forensic cluster certs`` made) on 127.0.0.1, port 0.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from forensic.analysis.cluster import CertFiles, ClusterFault, certificate_sha256
from forensic.case import Case
from tests.conftest import Cli, examiner_session, run_forensic
from tests.mediatools import capture

distributed = pytest.importorskip("distributed")


def photos(folder: Path, count: int, seed: int, size: tuple[int, int] = (96, 64)) -> list[Path]:
    """Small JPEGs of smooth gradients plus noise (all different)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        base = np.linspace(0, 255, size[0])[None, :, None] * np.ones((size[1], 1, 3))
        noisy = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(noisy).save(buf, "JPEG", quality=85)
        path = folder / f"photo-{seed}-{i}.jpg"
        path.write_bytes(buf.getvalue())
        out.append(path)
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import dask
    from distributed import Client, LocalCluster
    from distributed.security import Security

    from forensic.analysis.cluster import make_certs
    from forensic.service.cluster import cluster_config

    root = tmp_path_factory.mktemp("cluster")
    certs = root / "certs"
    make_certs(certs)
    roles = {r: CertFiles.of(certs, r) for r in ("scheduler", "worker", "client")}
    sec = Security(
        require_encryption=True,
        tls_ca_file=str(certs / "ca.pem"),
        **{f"tls_{r}_cert": str(f.cert) for r, f in roles.items()},
        **{f"tls_{r}_key": str(f.key) for r, f in roles.items()},
    )
    scratch = root / "workers"
    with (
        dask.config.set(cluster_config()),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            protocol="tls",
            host="127.0.0.1",
            security=sec,
            dashboard_address="127.0.0.1:0",
            local_directory=str(scratch),
        ) as lc,
        Client(lc, security=sec, set_as_default=False) as client,
    ):
        address = lc.scheduler_address.removeprefix("tls://")
        yield {
            "spec": f"dask://{address}",
            "certs": certs,
            "client": client,
            "scratch": scratch,
            "worker_cert": certificate_sha256(roles["worker"].cert.read_bytes()),
        }


def detect(cli: Cli, case: Path, *args: str | Path) -> dict[str, Any]:
    res = cli("analyze", "--detect", "--case", case, "--json", *args)
    assert res.exit_code == 0, res.stdout + res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


def analysis_files(case: Path) -> dict[str, str]:
    return {
        p.relative_to(case).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((case / "analysis").rglob("*"))
        if p.is_file()
    }


def analysis_entries(case: Path) -> list[Any]:
    return [e for e in Case.open(case).entries() if e.action == "analysis"]


def test_dask_results_equal_local_and_name_the_worker(
    tmp_path: Path, cli: Cli, case_dir: Path, cluster: dict[str, Any]
) -> None:
    capture(cli, case_dir, *photos(tmp_path / "src", 2, seed=1))
    detect(cli, case_dir, "--all")
    local = analysis_files(case_dir)
    remote = detect(
        cli, case_dir, "--all", "--executor", cluster["spec"], "--certs", cluster["certs"]
    )
    assert len(remote["analysis"]) == 2
    assert analysis_files(case_dir) == local  # byte-identical documents and figures
    entries = analysis_entries(case_dir)
    assert len(entries) == 4
    for entry in entries[2:]:
        who = entry.details["computed_by"]
        assert who["executor"] == "dask" and who["worker"].startswith("tls://127.0.0.1:")
        assert who["certificate_sha256"] == cluster["worker_cert"]
        assert who["libraries"]["numpy"] == np.__version__
    assert all("computed_by" not in e.details for e in entries[:2])
    # N local processes: the same files again, no computed_by
    detect(cli, case_dir, "--all", "--executor", "local:2")
    assert analysis_files(case_dir) == local
    assert all("computed_by" not in e.details for e in analysis_entries(case_dir)[4:])
    res = cli("verify", "--case", case_dir)
    assert res.exit_code == 0, res.stdout + res.stderr


def test_encrypted_case_leaves_no_plaintext_on_workers(
    tmp_path: Path, cli: Cli, cluster: dict[str, Any]
) -> None:
    case = tmp_path / "enc"
    res = cli("init", case, "--case-id", "E", "--title", "t", "--examiner", "K", "--encrypt")
    assert res.exit_code == 0, res.stderr
    sources = photos(tmp_path / "src", 2, seed=2)
    capture(cli, case, *sources)
    doc = detect(cli, case, "--executor", cluster["spec"], "--certs", cluster["certs"])
    assert len(doc["analysis"]) == 2
    # the distinctive middle of each photo's bytes appears nowhere in the workers' folders
    needles = [p.read_bytes()[200:264] for p in sources]
    # the workers' own folders are there (the scan below is not of an empty place)
    assert any(p.is_dir() for p in cluster["scratch"].rglob("*"))
    for path in cluster["scratch"].rglob("*"):
        if path.is_file():
            assert not any(n in path.read_bytes() for n in needles), path
    for folder in (case / "analysis").iterdir():
        for f in folder.iterdir():
            assert f.read_bytes().startswith(b"age-encryption.org/v1\n")


def test_worker_killed_mid_run_is_retried(
    tmp_path: Path, cli: Cli, case_dir: Path, cluster: dict[str, Any]
) -> None:
    from forensic.service.analysis import analyze

    capture(cli, case_dir, *photos(tmp_path / "src", 5, seed=3, size=(320, 240)))
    client = cluster["client"]
    pids: dict[str, int] = client.run(os.getpid)
    outcome: dict[str, Any] = {}

    def coordinator() -> None:
        try:
            outcome["result"] = analyze(
                examiner_session(), detect=True, case_dir=case_dir,
                executor=cluster["spec"], certs=cluster["certs"],
            )  # fmt: skip
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=coordinator)
    thread.start()
    deadline = time.monotonic() + 30
    killed = None
    while killed is None and time.monotonic() < deadline and thread.is_alive():
        busy = [w for w, tasks in client.processing().items() if tasks and w in pids]
        if busy:
            killed = busy[0]
            os.kill(pids[killed], signal.SIGKILL)
        time.sleep(0.02)
    thread.join(90)
    assert killed is not None, "no task was seen in flight"
    assert "error" not in outcome, outcome.get("error")
    assert len(outcome["result"].analysis) == 5
    entries = analysis_entries(case_dir)
    assert len({e.details["item"] for e in entries}) == len(entries) == 5
    res = cli("verify", "--case", case_dir)
    assert res.exit_code == 0, res.stdout + res.stderr


def test_coordinator_killed_then_recover_and_rerun_without_duplicates(
    tmp_path: Path, cli: Cli, case_dir: Path, cluster: dict[str, Any]
) -> None:
    capture(cli, case_dir, *photos(tmp_path / "src", 2, seed=4))
    killed = run_forensic(
        *("analyze", "--detect", "--case", case_dir, "--executor", cluster["spec"]),
        *("--certs", cluster["certs"]),
        env={"FORENSIC_TEST_KILL_AT": "analysis:logged"},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(analysis_entries(case_dir)) == 1
    res = cli("recover", "--case", case_dir)
    assert res.exit_code == 0, res.stdout + res.stderr
    again = detect(cli, case_dir, "--executor", cluster["spec"], "--certs", cluster["certs"])
    assert len(again["analysis"]) == 1
    entries = analysis_entries(case_dir)
    assert len({e.details["item"] for e in entries}) == len(entries) == 2
    res = cli("verify", "--case", case_dir)
    assert res.exit_code == 0, res.stdout + res.stderr


def test_plain_tcp_and_bad_executors_are_refused(cli: Cli, case_dir: Path, tmp_path: Path) -> None:
    capture(cli, case_dir, *photos(tmp_path / "src", 1, seed=5))
    for spec, word in (("dask://127.0.0.1:1", "--certs"), ("local:x", "local:N")):
        res = cli("analyze", "--detect", "--case", case_dir, "--executor", spec)
        assert res.exit_code == 2, res.stdout + res.stderr
        assert word in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not analysis_entries(case_dir)


def test_cluster_certs_and_result_checks(tmp_path: Path, cli: Cli) -> None:
    from forensic.analysis.cluster import issued_by_ca, make_certs
    from forensic.analysis.executor import DetectorPlan, ItemTask, check_computed, compute_item

    folder = tmp_path / "certs"
    res = cli("cluster", "certs", folder, "--worker", "w1", "--json")
    assert res.exit_code == 0, res.stderr
    made = json.loads(res.stdout)["certificates"]
    assert set(made) == {"ca.pem", "scheduler.pem", "worker.pem", "client.pem", "worker-w1.pem"}
    assert len(set(made.values())) == 5
    bad = cli("cluster", "certs", tmp_path / "c2", "--worker", "../x")
    assert bad.exit_code == 2 and "--worker ../x" in bad.stderr
    assert not (tmp_path / "c2").exists()
    for key in folder.glob("*-key.pem"):
        assert key.stat().st_mode & 0o777 == 0o600
    again = cli("cluster", "certs", folder)
    assert again.exit_code == 2 and "already" in again.stderr
    ca = (folder / "ca.pem").read_bytes()
    assert issued_by_ca((folder / "worker.pem").read_bytes(), ca)
    assert issued_by_ca((folder / "worker-w1.pem").read_bytes(), ca)
    other = make_certs(tmp_path / "other") and (tmp_path / "other" / "worker.pem").read_bytes()
    assert not issued_by_ca(other, ca)
    # a result whose figure or detector differs from the plan is refused
    data = photos(tmp_path / "src", 1, seed=6)[0].read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    detectors, skipped = DetectorPlan.built_in().for_media_type("image/jpeg")
    task = ItemTask(sha, "image/jpeg", None, "test", data, detectors, skipped, False)
    computed = compute_item(task)
    assert check_computed(task, computed, None) == {}
    name = next(n for n, (_d, figs) in computed.results.items() if figs)
    doc, figures = computed.results[name]
    fig = next(iter(figures))
    forged = {**computed.results, name: (doc, {**figures, fig: figures[fig] + b"x"})}
    with pytest.raises(ClusterFault, match="figure"):
        check_computed(task, type(computed)(**{**computed.__dict__, "results": forged}), None)
    # a task that failed on the worker side: one line naming the item
    from concurrent.futures import Future

    from forensic.analysis.executor import in_plan_order

    def failing(_task: ItemTask) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(OSError("worker lost"))
        return future

    with pytest.raises(ClusterFault, match=f"{sha[:16]}: the analysis failed.*worker lost"):
        list(in_plan_order(failing, [task], 2))
    bad = {**detectors, name: {**detectors[name], "version": "0"}}
    with pytest.raises(ClusterFault, match="detector or tool version"):
        check_computed(ItemTask(**{**task.__dict__, "detectors": bad}), computed, None)
