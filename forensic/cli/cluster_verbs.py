"""``forensic cluster certs|scheduler|worker``: analysis on several machines (Dask over TLS)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensic.cli.app import JsonOpt, LangOpt, app
from forensic.cli.helptext import LocalizedGroup, help_text
from forensic.cli.output import make_ui, run_verb
from forensic.errors import EXIT_OK

cluster_app = typer.Typer(help=help_text("cluster.verb"), no_args_is_help=True, cls=LocalizedGroup)
app.add_typer(cluster_app, name="cluster")

CertsDir = Annotated[Path, typer.Option("--certs", help=help_text("cluster.certs_dir"))]


@cluster_app.command("certs", help=help_text("cluster.certs"))
def certs(
    directory: Annotated[
        Path,
        typer.Argument(help=help_text("cluster.dir"), metavar=help_text("meta_cluster.directory")),
    ],
    host: Annotated[
        list[str] | None, typer.Option("--host", help=help_text("cluster.host"))
    ] = None,
    worker_names: Annotated[
        list[str] | None, typer.Option("--worker", help=help_text("cluster.worker_name"))
    ] = None,
    json_out: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    ui = make_ui(lang, json_out, False)

    def body() -> int:
        from forensic.service.cluster import cluster_certs

        result = cluster_certs(directory, host or (), worker_names or ())
        if ui.json_mode:
            ui.emit_json(result.as_dict())
            return EXIT_OK
        ui.say("cluster.certs_made", path=str(directory))
        for name, sha in result.certificates.items():
            ui.say("cluster.cert_line", name=name, sha256=sha)
        return EXIT_OK

    run_verb(ui, body)


@cluster_app.command("scheduler", help=help_text("cluster.scheduler"))
def scheduler(
    certs_dir: CertsDir,
    listen: Annotated[str, typer.Option("--host", help=help_text("cluster.listen"))] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help=help_text("cluster.port"))] = 8786,
    lang: LangOpt = None,
) -> None:  # pragma: no cover - runs until stopped
    ui = make_ui(lang, False, False)

    def body() -> int:
        from forensic.service.cluster import run_scheduler

        run_scheduler(certs_dir, listen, port, lambda a: ui.say("cluster.scheduler_up", address=a))
        return EXIT_OK

    run_verb(ui, body)


@cluster_app.command("worker", help=help_text("cluster.worker"))
def worker(
    address: Annotated[
        str,
        typer.Argument(
            help=help_text("cluster.address"), metavar=help_text("meta_cluster.address")
        ),
    ],
    certs_dir: CertsDir,
    threads: Annotated[int, typer.Option("--threads", help=help_text("cluster.threads"))] = 1,
    name: Annotated[
        str | None, typer.Option("--name", help=help_text("cluster.worker_own"))
    ] = None,
    lang: LangOpt = None,
) -> None:  # pragma: no cover - runs until stopped
    ui = make_ui(lang, False, False)

    def body() -> int:
        from forensic.service.cluster import run_worker

        run_worker(
            certs_dir,
            address,
            threads,
            lambda a: ui.say("cluster.worker_up", address=a, scheduler=address),
            name,
        )
        return EXIT_OK

    run_verb(ui, body)
