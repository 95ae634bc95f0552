"""The cache stores of ``framework/cache.py`` against real Redis and memcached, and the worker's memory."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pymemcache.client.base import PooledClient
from redis import Redis
from redis.exceptions import RedisError

from conexoos.framework.cache import (
    CacheStore,
    CacheUnavailable,
    MemcachedStore,
    MemoryStore,
    RedisStore,
    cache_store,
)
from conexoos.framework.services import Services
from tests.support.redis_server import RedisServer
from tests.support.services import require_memcached, require_redis


def redis_store() -> RedisStore:
    conf = require_redis()
    client = Redis(host=str(conf["HOST"]), port=int(str(conf["PORT"])), socket_timeout=2)
    return RedisStore(client, f"test-cache-{uuid.uuid4().hex}:")  # never another test's keys


def memcached_store() -> MemcachedStore:
    conf = require_memcached()
    client = PooledClient((str(conf["HOST"]), int(str(conf["PORT"]))), timeout=2, default_noreply=False)
    return MemcachedStore(client, f"test-cache-{uuid.uuid4().hex}:")


@pytest.fixture(params=["redis", "memcached", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> CacheStore:
    """Each store, empty."""
    if request.param == "redis":
        return redis_store()
    if request.param == "memcached":
        return memcached_store()
    return MemoryStore(tmp_path / "marks", max_entries=10)


def test_values_round_trip(store: CacheStore) -> None:
    assert store.get("page:alice") is None
    store.set("page:alice", b"<html>", ttl=60)
    assert store.get("page:alice") == b"<html>"
    store.set("page:alice", b"<html>2", ttl=60)
    assert store.get("page:alice") == b"<html>2"
    store.set_many({"page:bob": b"bob", "go:1": b"one"}, ttl=60)
    assert (store.get("page:bob"), store.get("go:1"), store.get("go:2")) == (b"bob", b"one", None)


def test_marks_start_at_zero_and_take_the_time_of_the_change(store: CacheStore) -> None:
    assert store.marks(["site", "owner-1"]) == [0.0, 0.0]
    before = time.time()
    store.mark(["owner-1"])
    after = time.time()
    site, owner = store.marks(["site", "owner-1"])
    assert site == 0.0 and before - 0.01 <= owner <= after + 0.01


def test_memory_keeps_the_most_recently_used(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path, max_entries=2)
    store.set("a", b"1", ttl=60)
    store.set("b", b"2", ttl=60)
    assert store.get("a") == b"1"  # a is now the most recently used
    store.set("c", b"3", ttl=60)
    assert (store.get("a"), store.get("b"), store.get("c")) == (b"1", None, b"3")
    assert len(store) == 2


def test_memory_marks_are_shared_by_the_workers_of_a_host(tmp_path: Path) -> None:
    one, other = MemoryStore(tmp_path / "marks", 10), MemoryStore(tmp_path / "marks", 10)
    one.mark(["owner-7"])
    assert other.marks(["owner-7"]) == one.marks(["owner-7"]) != [0.0]
    other.set("page:x", b"x", ttl=60)
    assert one.get("page:x") is None  # values are the worker's own


def test_a_stopped_redis_is_cache_unavailable_with_its_cause() -> None:
    with RedisServer() as server:  # a free port: never another run's server
        client = Redis(host=server.host, port=server.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        store = RedisStore(client, "test:")
        store.set("k", b"v", ttl=60)
        server.stop()
        for call in (
            lambda: store.get("k"),
            lambda: store.set("k", b"v", 60),
            lambda: store.marks(["a"]),
            lambda: store.mark(["a"]),
        ):
            with pytest.raises(CacheUnavailable) as raised:
                call()
            assert isinstance(raised.value.__cause__, RedisError)


@pytest.fixture
def services_of() -> Iterator[Any]:
    def make(services: dict[str, Any]) -> Services:
        return Services(SimpleNamespace(services=services))  # type: ignore[arg-type]

    yield make


def test_the_store_follows_services(services_of: Any, tmp_path: Path) -> None:
    redis = {"HOST": "127.0.0.1", "PORT": 6379, "DB": 0, "PASSWORD": ""}
    memcached = {"HOST": "127.0.0.1", "PORT": 11211}
    assert isinstance(cache_store(services_of({"redis": redis}), tmp_path, "p:", 5), RedisStore)
    assert isinstance(cache_store(services_of({"memcached": memcached}), tmp_path, "p:", 5), MemcachedStore)
    memory = cache_store(services_of({}), tmp_path, "p:", 5)
    assert isinstance(memory, MemoryStore)
    memory.mark(["site"])
    assert (tmp_path / "cache_marks" / "site").exists()
