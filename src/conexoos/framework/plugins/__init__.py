"""Plugins: pip-installed packages laid out like a project, loaded after the project when enabled.

A plugin declares an entry point in the group ``conexoos.plugins`` naming a package in the seed-001
layout (``server/web.py``, ``controllers``, ``models``, ``templates``, ``static``, ``migrations/versions``).
Which plugins are enabled is kept in the database (``plugin_state``); a change applies at the next start.
Nothing installs code: an operator installs a plugin with pip, as any other dependency.
"""

from .discovery import ENTRY_POINT_GROUP, NAME_PATTERN, InstalledPlugin, PluginError, installed_plugins
from .loading import ActivePlugins, active_plugins, load_plugins, plugin_model_tables
from .state import (
    PLUGIN_STATE_TABLE,
    PluginState,
    PluginStatus,
    enabled_names,
    plugin_statuses,
    set_enabled,
    switch_refusal,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "NAME_PATTERN",
    "PLUGIN_STATE_TABLE",
    "ActivePlugins",
    "InstalledPlugin",
    "PluginError",
    "PluginState",
    "PluginStatus",
    "active_plugins",
    "enabled_names",
    "installed_plugins",
    "load_plugins",
    "plugin_model_tables",
    "plugin_statuses",
    "set_enabled",
    "switch_refusal",
]
