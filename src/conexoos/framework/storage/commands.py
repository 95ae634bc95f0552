"""``conexoos media ...``: operate the media storage (``SERVER_ENV.MEDIA``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from ..config import media_backend_problem
from . import BACKENDS, build_storage
from .migrate import copy_all

CommandFunction = Callable[..., Any]
LoadApp = Callable[[str | None, str | None], Flask]


def media_group(
    project_options: Callable[[CommandFunction], CommandFunction], load_app: LoadApp
) -> click.Group:
    """The ``media`` command group; ``load_app(project, config)`` builds the app a command runs on."""

    @click.group("media")
    @project_options
    def group(project: str | None, config: str | None) -> None:
        """Manage uploaded media (avatars, product images) and where it is stored."""

    @group.command("migrate")
    @project_options
    @click.option("--to", "target_backend", required=True, type=click.Choice(BACKENDS), help="Copy into.")
    @click.option(
        "--from",
        "source_backend",
        default=None,
        type=click.Choice(BACKENDS),
        help="Copy from (default: the configured SERVER_ENV.MEDIA.BACKEND).",
    )
    @click.option("--verbose", "-v", is_flag=True, help="One line per file.")
    @click.pass_context
    def migrate(
        ctx: click.Context,
        project: str | None,
        config: str | None,
        target_backend: str,
        source_backend: str | None,
        verbose: bool,
    ) -> None:
        """Copy every stored file into another backend, checked by size and SHA-256.

        Safe to run again (or after an interruption): files already copied are skipped. Nothing is
        deleted. When it reports no failure, set SERVER_ENV.MEDIA.BACKEND to the target and restart.
        """
        app = load_app(project, config)
        settings = app.extensions["conexoos"].settings
        source_name = source_backend or settings.tree["SERVER_ENV"]["MEDIA"]["BACKEND"]
        if source_name == target_backend:
            raise click.UsageError(f"the files are already in {target_backend}; choose another --to")
        for option, backend in (("--from", source_name), ("--to", target_backend)):
            problem = media_backend_problem(settings, backend)
            if problem:  # before anything is tried: every file would fail the same way
                click.echo(f"error: {option} {problem}", err=True)
                ctx.exit(2)
        with app.app_context():
            source, target = build_storage(settings, source_name), build_storage(settings, target_backend)
            click.echo(f"copying media from {source.describe()} to {target.describe()}")
            report = copy_all(source, target, _printer(verbose))
        click.echo(
            f"{report.total} files: {report.copied} copied, {report.present} already there, "
            f"{len(report.failed)} failed"
        )
        for name, why in report.failed:
            click.echo(f"failed: {name}: {why}", err=True)
        if report.stopped:
            click.echo(
                "stopped: a storage does not answer; nothing was lost and the files copied so far are kept: "
                "run the same command again once it answers",
                err=True,
            )
        if report.failed or report.stopped:
            ctx.exit(1)
        click.echo(
            f"Every file is in {target_backend}. Now set SERVER_ENV.MEDIA.BACKEND: {target_backend} on every "
            f"host and restart them; the files in {source_name} are kept (remove them once you are sure)."
        )

    return group


def _printer(verbose: bool) -> Callable[[str, str], None]:
    def show(name: str, outcome: str) -> None:
        if verbose or outcome.startswith("failed"):
            click.echo(f"{outcome}: {name}", err=outcome.startswith("failed"))

    return show
