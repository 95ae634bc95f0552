"""Which plugins are installed: the entry points of the group ``conexoos.plugins``."""

from __future__ import annotations

import importlib.util
import logging
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import Distribution, EntryPoint, entry_points
from pathlib import Path

from ..errors import ConexoosError
from ..installed_copies import installed_copy
from ..project import Project

ENTRY_POINT_GROUP = "conexoos.plugins"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
"""A plugin's name is part of URLs (``/plugins/<name>/static``) and of its version table's name."""
log = logging.getLogger("conexoos.plugins")


class PluginError(ConexoosError):
    """A plugin cannot be found, named or loaded; the message is one line naming it."""


@dataclass(frozen=True)
class InstalledPlugin:
    """One entry point of the group: the plugin's name, its package and its distribution's metadata."""

    name: str
    module: str
    version: str
    description: str
    distribution: Distribution | None = field(default=None, compare=False, repr=False)

    def project(self) -> Project:
        """The plugin's package as a :class:`Project` (its parts are found as a project's are)."""
        try:
            spec = importlib.util.find_spec(self.module)
        except (ImportError, ValueError) as error:
            raise PluginError(
                f"plugin {self.name!r}: its package {self.module!r} cannot be found: {error}"
            ) from error
        if spec is None or not spec.submodule_search_locations:
            raise PluginError(
                f"plugin {self.name!r}: {self.module!r} is not an installed package "
                f"(its entry point in {ENTRY_POINT_GROUP!r} must name a package laid out like a project)"
            )
        return Project(root=Path(next(iter(spec.submodule_search_locations))).resolve(), package=self.module)

    def installed_in(self) -> Path | None:
        """The folder pip installed the plugin's package into (site-packages, a ``--target`` folder), or
        None when it runs from a source checkout (an editable install): see :func:`installed_copy`."""
        return installed_copy(self.project().root, self.distribution)


def installed_plugins() -> dict[str, InstalledPlugin]:
    """Every installed plugin by name; raises :class:`PluginError` for a name two packages use. An entry
    point that names no plugin (a bad name, an object instead of a package) is left out with a warning:
    it could never be enabled, and it must not stop ``conexoos plugins disable`` or a start.

    Read once per ``sys.path`` (reading every distribution's metadata takes ~15 ms, and each app creation
    asks): a package installed while the process runs is seen at the next start, as enabling one is.
    """
    return dict(_installed_on(tuple(sys.path)))


@lru_cache(maxsize=8)
def _installed_on(_path: tuple[str, ...]) -> tuple[tuple[str, InstalledPlugin], ...]:
    found: dict[str, InstalledPlugin] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin = _plugin(entry)
        except PluginError as error:
            log.warning("%s; it is left out", error)
            continue
        if plugin.name in found and found[plugin.name].module != plugin.module:
            raise PluginError(
                f"plugin {plugin.name!r} is declared twice ({found[plugin.name].module} and "
                f"{plugin.module}); uninstall one of them"
            )
        found[plugin.name] = plugin
    return tuple(sorted(found.items()))


def _plugin(entry: EntryPoint) -> InstalledPlugin:
    if not NAME_PATTERN.fullmatch(entry.name):
        raise PluginError(
            f"plugin {entry.name!r} ({entry.value}): a plugin's name is 1 to 40 lowercase letters, digits "
            "or _, starting with a letter"
        )
    if entry.attr:
        raise PluginError(
            f"plugin {entry.name!r}: its entry point {entry.value!r} must name a package, not an object"
        )
    distribution = entry.dist
    metadata = distribution.metadata if distribution is not None else None
    return InstalledPlugin(
        name=entry.name,
        module=entry.module,
        version=distribution.version if distribution is not None else "unknown",
        description=(metadata["Summary"] or "") if metadata is not None else "",
        distribution=distribution,
    )
