"""A signed-in visitor of the real server (PROD, ``conexoos serve``, Redis sessions, our own PostgreSQL and
Redis) while PostgreSQL is stopped, while it is frozen, and while Redis refuses writes: the 503 page that
says why, never a 500, one log line rather than a traceback per request; public pages and /go keep
working whenever the database answers; signed-in pages that only read keep working while Redis refuses
writes (their session's expiry slides without memory); /readyz routes on the database alone and answers
within its bound."""

from __future__ import annotations

import time
from pathlib import Path

import redis

from tests.faults.conftest import database_entry
from tests.faults.harness import ServedProduct, Visitor, new_port, product_config
from tests.support.postgres_cluster import PostgresCluster
from tests.support.redis_server import RedisServer

DATABASE_DOWN = "The database is unavailable right now"


def test_a_signed_in_visitor_through_database_and_session_store_faults(
    tmp_path: Path, postgres: PostgresCluster, redis_server: RedisServer
) -> None:
    redis_server.start()
    port = new_port()
    config = product_config(
        tmp_path,
        port,
        database_entry(postgres),
        SERVER_ENV={"SESSION": "redis"},
        SERVICES={"redis": redis_server.service},
    )
    server = ServedProduct(config, port)
    try:
        server.wait_ready()
        username = f"owner{port}"
        owner = Visitor(server.url)
        owner.sign_up(username)
        link = owner.add_link()
        pages = ["/dashboard", "/api/links", f"/{username}", "/login", f"/go/{link}"]

        postgres.stop()
        for path in pages:
            answer = owner.get(path)
            assert answer.status_code == 503, (path, answer.status_code, answer.text[:300])
            assert DATABASE_DOWN in answer.text, path
        assert owner.get("/readyz").status_code == 503
        postgres.start()
        assert owner.get("/dashboard").status_code == 200  # still signed in

        postgres.freeze()
        try:
            started = time.monotonic()
            ready = owner.get("/readyz", timeout=10)
            took = time.monotonic() - started
            assert (ready.status_code, ready.json()["checks"]["database"], took < 4) == (503, "down", True), (
                took
            )
        finally:
            postgres.thaw()

        client = redis.Redis(host=redis_server.host, port=redis_server.port)
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", 1)
        for path in ("/dashboard", "/api/links"):  # reading stores nothing: the expiry slides (EXPIRE)
            assert owner.get(path).status_code == 200, path
        assert owner.get(f"/{username}").status_code == 200
        assert owner.get(f"/go/{link}").status_code == 302
        assert owner.get("/readyz").status_code == 200
        client.config_set("maxmemory", 0)
        client.close()

        redis_server.stop()  # Redis down: the host still serves its public pages, so it stays routed
        ready = Visitor(server.url).get("/readyz")
        assert (ready.status_code, ready.json()["status"], ready.json()["down"]) == (
            200,
            "degraded",
            ["redis"],
        )

        output = server.output()
        assert "Exception on /" not in output and "Request finalizing failed" not in output, output[-3000:]
        assert output.count("Traceback") == 0, output[-3000:]
    finally:
        server.stop()
