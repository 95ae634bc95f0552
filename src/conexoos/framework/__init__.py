"""The Conexoos framework: run any project laid out the seed-001 way on Flask."""

from .app import Runtime, create_app, runtime
from .config import Settings, load_settings
from .database import db
from .errors import ConexoosError, ConfigError, ProjectError, ReadOnlyDatabaseError
from .http_errors import error_response, wants_json
from .sessions import current_session_id, end_session, regenerate_session, require_session_store

__all__ = [
    "ConexoosError",
    "ConfigError",
    "ProjectError",
    "ReadOnlyDatabaseError",
    "Runtime",
    "Settings",
    "create_app",
    "current_session_id",
    "db",
    "end_session",
    "error_response",
    "load_settings",
    "regenerate_session",
    "require_session_store",
    "runtime",
    "wants_json",
]
