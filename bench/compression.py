"""What compression saves on the public page, and what it costs per request, next to the plain page.

Run: .venv/bin/python bench/compression.py [--requests 300]

Builds the product (SQLite in a temporary folder), signs a creator up with a bio and ten links, then:
- bytes on the wire of the page's HTML and of its stylesheet, plain, gzip and Brotli;
- requests per second of the page through the full WSGI stack in one thread, asking for no encoding,
  for gzip and for Brotli, alternating rounds, so the cost of compressing each view shows side by side;
- the same for the stylesheet (compressed once per file, then served from memory).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from conexoos.framework import create_app
from conexoos.framework.database import create_schema

ENCODINGS = {"plain": "identity", "gzip": "gzip", "br": "br"}
ROUNDS = 5


def creator_page(folder: Path) -> tuple[FlaskClient, str, str]:
    """A client, the creator's page path and its stylesheet's URL."""
    overrides = {
        "SERVER_ENV": {
            "ENV": "DEV",
            "INSTANCE_PATH": str(folder),
            "APP_KEY": "bench-" + "k" * 40,
            "LOG": {"LEVEL": "WARNING"},
        },
        "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{folder / 'bench.db'}"}},
        "FLASK": {"CONFIG": {"RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False}},
    }
    app = create_app(overrides=overrides)
    create_schema(app, app.extensions["conexoos"].settings)
    owner = app.test_client()
    form = {"email": "lumen@example.com", "username": "lumen", "password": "correct horse battery staple"}
    assert owner.post("/signup", data=form).status_code == 302
    assert owner.post("/login", data={"login": "lumen", "password": form["password"]}).status_code == 302
    owner.post("/dashboard/settings", data={"display_name": "Lumen Studio", "bio": "Ceramics. " * 20})
    for n in range(10):
        link = {"title": f"Workshop number {n}", "url": f"https://example.com/{n}"}
        assert owner.post("/api/add/link", json=link).status_code == 201
    client = app.test_client()
    html = client.get("/lumen").get_data(as_text=True)
    stylesheet = re.search(r'<link rel="stylesheet" href="(?:http://[^/]+)?([^"]+)"', html)
    assert stylesheet is not None
    return client, "/lumen", stylesheet[1]


def size(client: FlaskClient, path: str, accept: str) -> int:
    response = client.get(path, headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    return len(response.data)


def per_second(client: FlaskClient, path: str, accept: str, requests: int) -> float:
    headers = {"Accept-Encoding": accept}
    started = time.perf_counter()
    for _ in range(requests):
        client.get(path, headers=headers).close()
    return requests / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per encoding and round")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        client, page, stylesheet = creator_page(Path(folder))
        for label, path in (("page HTML", page), ("stylesheet", stylesheet)):
            sizes = {name: size(client, path, accept) for name, accept in ENCODINGS.items()}
            print(f"{label:12} bytes: " + ", ".join(f"{name} {value}" for name, value in sizes.items()))
        for label, path in (("page", page), ("stylesheet", stylesheet)):
            rates: dict[str, list[float]] = {name: [] for name in ENCODINGS}
            for _ in range(ROUNDS):
                for name, accept in ENCODINGS.items():
                    rates[name].append(per_second(client, path, accept, arguments.requests))
            print(
                f"{label:12} requests/s (median of {ROUNDS} alternating rounds, min-max): "
                + ", ".join(
                    f"{name} {statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"
                    for name, values in rates.items()
                )
            )


if __name__ == "__main__":
    main()
