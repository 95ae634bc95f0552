"""Signals the framework sends to a project (blinker's, as Flask's own are).

A project connects a receiver for its app (``database_restored.connect(receiver, server)``); the
receiver is called with the app as its one argument.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

database_restored = _signals.signal("database-restored")
"""Sent by ``conexoos db restore`` once the default database holds the backup: what a project keeps
about its rows outside the database, in a shared cache, is stale. A receiver raises
:class:`~conexoos.framework.cache.CacheUnavailable` when it could not reach that cache; the command
says so."""

blueprint_installed = _signals.signal("blueprint-installed")
"""Sent when a lazily registered blueprint's module is installed (:mod:`.lazy_blueprints`), with the app as
sender and ``blueprint=`` the real blueprint, before its first request's ``before_request`` functions run:
code that read the views' marks at start-up (which saw only stand-ins then) reads them again."""
