"""The WSGI app for external servers, e.g. ``gunicorn conexoos.framework.wsgi:app``.

The project comes from ``$CONEXOOS_PROJECT`` (default: the Conexoos product) and the configuration from
``$CONFIG_FILE``, else the project's own config.yml, else the embedded default. Tables are not created
here: run ``conexoos db upgrade`` (or start once with ``conexoos serve``) before the first request.
"""

from __future__ import annotations

import os

from .app import create_app
from .config import CONFIG_ENV_VAR
from .project import PROJECT_ENV_VAR
from .project_config import project_config
from .startup_gc import made_to_serve

app = made_to_serve(  # what start-up makes lives as long as the worker (startup_gc)
    lambda: create_app(
        os.environ.get(PROJECT_ENV_VAR) or None,
        project_config(os.environ.get(PROJECT_ENV_VAR) or None, os.environ.get(CONFIG_ENV_VAR) or None),
    )
)
