"""The Conexoos framework: run any project laid out the seed-001 way on Flask."""

from .startup_gc import collection_paused

with collection_paused():  # importing makes objects that all stay: see startup_gc
    from .lazy import install_lazy_packages
    from .rate_limit_storage import install_storage_schemes

    install_lazy_packages()  # first: the modules below import Flask-SocketIO, which imports socketio
    install_storage_schemes()  # before Flask-Limiter looks its storage up

    from .app import Runtime, create_app, runtime
    from .config import Settings, load_settings
    from .csrf_exemptions import csrf_exempt
    from .database import db
    from .errors import ConexoosError, ConfigError, ProjectError, ReadOnlyDatabaseError
    from .http_errors import error_response, wants_json
    from .sessions import (
        current_session_id,
        drop_session,
        end_session,
        regenerate_session,
        require_session_store,
    )

__all__ = [
    "ConexoosError",
    "ConfigError",
    "ProjectError",
    "ReadOnlyDatabaseError",
    "Runtime",
    "Settings",
    "create_app",
    "csrf_exempt",
    "current_session_id",
    "db",
    "drop_session",
    "end_session",
    "error_response",
    "load_settings",
    "regenerate_session",
    "require_session_store",
    "runtime",
    "wants_json",
]
