"""limits' storage registry fills one storage at a time (framework/rate_limit_storage.py): every scheme
still finds the storage it finds when limits imports them all, and only that one is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCHEMES = """
import json, sys
if sys.argv[1] == "lazy":
    import conexoos.framework  # installs the finder and the registry
from limits import _storage_scheme
from limits.storage import storage_from_string
from limits.errors import ConfigurationError
if sys.argv[1] == "eager":
    import limits.aio.storage  # the asyncio storages register their schemes too
schemes = sorted(_storage_scheme.SCHEMES) if sys.argv[1] == "eager" else json.loads(sys.argv[2])
found = {}
for scheme in schemes:
    registered = dict.__contains__(_storage_scheme.SCHEMES, scheme)  # before the lookup, which imports it
    storage = _storage_scheme.SCHEMES[scheme]
    found[scheme] = [f"{storage.__module__}.{storage.__qualname__}", registered]
try:
    storage_from_string("nosuch://")
except ConfigurationError as error:
    found["nosuch"] = str(error)
print(json.dumps(found))
"""
FIRST_LOOKUPS = """
import sys
import conexoos.framework
from limits.storage import storage_from_string
def storages():
    return sorted(n for n in sys.modules if n.startswith("limits.storage.") and n != "limits.storage.base")
print(storages())
print(type(storage_from_string("memory://")).__module__, storages())
print(type(storage_from_string("redis://127.0.0.1:1")).__module__, storages())
from limits.storage import MongoDBStorage  # a name the package's __init__ imports: every storage
print(MongoDBStorage.__module__, len(storages()))
"""
ALREADY_IMPORTED = """
import limits.storage  # before the framework: limits as it is, every storage registered
from limits import _storage_scheme
import conexoos.framework
import limits.aio.storage  # registered after the framework: seen by storage_from_string all the same
from limits.storage import storage_from_string
print(limits.storage.SCHEMES is _storage_scheme.SCHEMES, type(storage_from_string("async+memory://")).__module__)
"""


def _run(source: str, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", source, *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_scheme_finds_the_storage_limits_registers_for_it() -> None:
    eager = json.loads(_run(SCHEMES, "eager"))
    first = ["memory", "redis"]  # before an async+ scheme, which imports every storage (as limits does)
    others = sorted(set(eager) - {"nosuch", *first})
    lazy = json.loads(_run(SCHEMES, "lazy", json.dumps(first + others)))
    assert len(eager) > 20 and {"memory", "redis", "async+memory", "mongodb+srv"} <= set(eager)
    assert {scheme: found[0] for scheme, found in lazy.items() if scheme != "nosuch"} == {
        scheme: found[0] for scheme, found in eager.items() if scheme != "nosuch"
    }
    assert lazy["memory"][1] and not lazy["redis"][1]  # MemoryStorage is imported with limits.storage
    assert lazy["nosuch"] == eager["nosuch"] == "unknown storage scheme : nosuch://"


def test_a_lookup_imports_its_scheme_s_storage_alone() -> None:
    lines = _run(FIRST_LOOKUPS).strip().splitlines()
    assert lines[:3] == [
        "['limits.storage.memory']",  # the package's __init__ imports MemoryStorage (kept)
        "limits.storage.memory ['limits.storage.memory']",
        "limits.storage.redis ['limits.storage.memory', 'limits.storage.redis']",
    ]
    assert (
        lines[3] == "limits.storage.mongodb 6"
    )  # memory, redis, its cluster and sentinel, memcached, mongodb


def test_a_registry_installed_after_limits_storage_is_the_one_it_looks_up() -> None:
    assert _run(ALREADY_IMPORTED).strip() == "True limits.aio.storage.memory"
