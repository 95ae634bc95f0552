"""limits' registry of storage schemes, filled one storage at a time: a worker imports the storage its rate
limits use (``memory://`` or ``redis://``), not all six and their dependencies.

limits registers a storage class under its schemes when the class is made, and its ``limits.storage``
package imports every storage module so that ``storage_from_string`` (which Flask-Limiter calls at
``init_app``) finds any scheme. That package is loaded without them (``framework/lazy.py``'s
``DEFERRED_IMPORTS``), and the registry imports a scheme's module at the scheme's first lookup instead.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

STORAGE_MODULES = {
    "memory": "limits.storage.memory",
    **dict.fromkeys(
        ("redis", "rediss", "redis+unix", "valkey", "valkeys", "valkey+unix"), "limits.storage.redis"
    ),
    **dict.fromkeys(("redis+cluster", "valkey+cluster"), "limits.storage.redis_cluster"),
    **dict.fromkeys(("redis+sentinel", "valkey+sentinel"), "limits.storage.redis_sentinel"),
    "memcached": "limits.storage.memcached",
    **dict.fromkeys(("mongodb", "mongodb+srv"), "limits.storage.mongodb"),
}
"""The module of limits that registers each scheme (``tests/framework/test_rate_limit_storage.py`` checks
this against the registry limits fills itself)."""
EVERY_STORAGE = (*dict.fromkeys(STORAGE_MODULES.values()), "limits.aio.storage")
"""What limits imports for its registry, for a scheme not in :data:`STORAGE_MODULES` (the asyncio storages'
``async+...``, or one a later version of limits adds): every storage, as limits itself does."""


ASYNC_PREFIX = "async+"
"""The schemes of limits' asyncio storages, for asyncio frameworks, not Flask-Limiter."""


class StorageSchemes(dict[str, Any]):
    """limits' ``SCHEMES`` (scheme to storage class) that imports a scheme's storage when it is looked up
    and not registered yet. A scheme that no storage registers is missing, as it was."""

    def __contains__(self, scheme: object) -> bool:
        return isinstance(scheme, str) and self._registered(scheme)

    def __getitem__(self, scheme: str) -> Any:
        self._registered(scheme)
        return super().__getitem__(scheme)

    def _registered(self, scheme: str) -> bool:
        if not super().__contains__(scheme):
            modules = [STORAGE_MODULES[scheme]] if scheme in STORAGE_MODULES else EVERY_STORAGE
            for module in modules:
                importlib.import_module(module)  # its classes register their schemes in this dict
        return super().__contains__(scheme)


def install_storage_schemes() -> None:
    """Put a :class:`StorageSchemes` in place of limits' registry (once), keeping what it holds already.
    ``limits.storage`` binds the registry at its import: if it was imported before, it is given the new
    one too, so that both see the storages registered from now on."""
    from limits import _storage_scheme

    if isinstance(_storage_scheme.SCHEMES, StorageSchemes):
        return
    schemes = StorageSchemes(_storage_scheme.SCHEMES)
    _storage_scheme.SCHEMES = schemes
    storage = sys.modules.get("limits.storage")
    if storage is not None:
        storage.SCHEMES = schemes  # type: ignore[attr-defined]


def known_storage_uri(uri: str) -> str:
    """``uri`` when its scheme is one limits registers a storage for (``memory://``, ``redis://``, ...);
    ValueError otherwise, which Flask-Limiter would raise at the start (``unknown storage scheme``), and for
    the asyncio storages (``async+redis://``...), which Flask-Limiter cannot use (its first request
    failed). Only the scheme's own storage module is imported; an unknown scheme imports them all, as
    limits does."""
    from urllib.parse import urlsplit

    from limits import _storage_scheme

    install_storage_schemes()
    scheme = urlsplit(uri.strip()).scheme
    if scheme.startswith(ASYNC_PREFIX):  # limits' asyncio storages: Flask-Limiter's strategies refuse them
        raise ValueError(uri)
    if not scheme or scheme not in _storage_scheme.SCHEMES:
        raise ValueError(uri)
    return uri
