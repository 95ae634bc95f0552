"""Which configuration file a project runs with: the one named, else the project's own ``config.yml``.

Its own module so that the WSGI entry point (``wsgi.py``) needs neither gunicorn nor Alembic (``serve.py``).
"""

from __future__ import annotations

import os

from .compat_import import expect_config
from .project import locate_project

PROJECT_CONFIG_NAMES = ("config.yml", "config.yaml", "config.json")


def project_config(project: str | os.PathLike[str] | None, config: str | None) -> str | None:
    """The configuration to use: ``config`` when given, else the project's own config.yml/.yaml/.json.

    Returns None when neither exists, so the embedded default applies. A flask-framework project may read
    it while its modules are imported for their schema: it is remembered for that (``expect_config``).
    """
    chosen = config or _found_config(project)
    expect_config(chosen, None)
    return chosen


def _found_config(project: str | os.PathLike[str] | None) -> str | None:
    root = locate_project(project).root
    for name in PROJECT_CONFIG_NAMES:
        candidate = root / name
        if candidate.is_file():
            return str(candidate)
    return None
