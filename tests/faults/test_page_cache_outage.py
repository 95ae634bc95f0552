"""PostgreSQL stopped under the real server: the page cache keeps a page it has rendered up (200, and 304
for its ETag), ``/go`` still redirects a link it has seen (302), and what it never saw is a clean 503."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from tests.faults.conftest import database_entry
from tests.faults.harness import ServedProduct, Visitor, new_port, product_config
from tests.support.postgres_cluster import PostgresCluster


def test_postgresql_down_the_cached_page_and_seen_links_still_answer(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    port = new_port()
    # TTL 1 s: by the time the database is down, the page is past it and is served as kept for an outage.
    config = product_config(tmp_path, port, database_entry(postgres), APP={"PAGE_CACHE": {"TTL": 1}})
    server = ServedProduct(config, port)
    try:
        server.wait_ready()
        owner, other = Visitor(server.url), Visitor(server.url)
        owner.sign_up(f"shown{port}")
        shown = owner.add_link("https://shown.example/")
        other.sign_up(f"unseen{port}")
        unseen = other.add_link("https://unseen.example/")
        visitor = Visitor(server.url)
        page = visitor.get(f"/shown{port}")
        assert page.status_code == 200 and f'href="/go/{shown}"' in page.text
        clicked = visitor.get(f"/go/{shown}")
        assert clicked.status_code == 302 and clicked.headers["Location"] == "https://shown.example/"

        postgres.stop()
        time.sleep(1.1)
        again = Visitor(server.url).get(f"/shown{port}")
        assert again.status_code == 200 and again.text == page.text
        assert again.headers["ETag"] == page.headers["ETag"]
        conditional = visitor.http.get(
            f"{server.url}/shown{port}", headers={"If-None-Match": page.headers["ETag"]}, timeout=10
        )
        assert conditional.status_code == 304
        redirect = Visitor(server.url).get(f"/go/{shown}")
        assert redirect.status_code == 302 and redirect.headers["Location"] == "https://shown.example/"
        assert Visitor(server.url).get(f"/go/{unseen}").status_code == 503
        assert Visitor(server.url).get(f"/unseen{port}").status_code == 503

        postgres.start()
        assert Visitor(server.url).get(f"/unseen{port}").status_code == 200
        assert clicks_arrive(owner, 2)  # the click before the outage and the one served from the cache
        output = server.output()
        assert f"database unreachable, answering /shown{port} from the page cache" in output, output
        assert "not recorded" not in output, output  # the write buffer kept them for the database
        assert f"database unreachable, answering /go/{shown} from the page cache" in output, output
        assert "database unreachable, answering 503" in output  # the pages it could not serve
        assert "Exception on /" not in output  # Flask's line for a request that crashed (a 500)
    finally:
        server.stop()


def clicks_arrive(owner: Visitor, expected: int, timeout: float = 30.0) -> bool:
    """Whether the owner's statistics count ``expected`` clicks today within ``timeout`` seconds (the
    write buffer's flush brings them once the database is back)."""
    today = datetime.now(UTC).date().isoformat()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = owner.get(f"/api/stats?from={today}&to={today}")
        if report.status_code == 200 and report.json()["totals"]["clicks"] == expected:
            return True
        time.sleep(0.5)
    return False
