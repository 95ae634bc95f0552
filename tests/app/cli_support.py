"""Run the ``conexoos`` command line in this process on the same configuration as a test's app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from flask import Flask

from conexoos.framework.config import deep_merge


def cli_env(app: Flask, overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """The environment that points the CLI at ``app``'s configuration (written to a file, with
    ``overrides`` merged over it)."""
    settings = app.extensions["conexoos"].settings
    path = Path(app.instance_path).parent / "cli-config.yml"
    tree = {key: value for key, value in settings.tree.items() if key != "DATABASE"}
    tree["DATABASE"] = {
        "default": "main",
        "main": {"url": settings.default_database.url.render_as_string(False)},
    }
    tree["SERVER_ENV"] = dict(tree["SERVER_ENV"], INSTANCE_PATH=str(settings.instance_path))
    tree = deep_merge(tree, overrides or {})
    path.write_text(yaml.safe_dump(tree, default_flow_style=False), encoding="utf-8")
    return {"CONFIG_FILE": str(path)}
