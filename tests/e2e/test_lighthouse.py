"""Lighthouse scores the public page 100 for accessibility under every built-in theme, and the home, login
and sign-up pages too.

The creator's page is seeded as a creator fills it (an avatar, a bio, links, a product with an image), and
audited once under each theme of ``controllers/themes.py`` (a theme added there is audited without editing
this file). Lighthouse is the npm package pinned in ``tests/support/lighthouse/package-lock.json``
(``npm ci`` there; ``scripts/test`` does it); ``audit.mjs`` there starts Debian's Chromium once, headless and
without a sandbox, and audits each URL the test sends it, so one server and one browser serve every run.
A score below 100 fails with each failing audit and the elements it names.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from conexoos.app.controllers import site_settings
from conexoos.app.controllers.profiles import THEME_SETTING
from conexoos.app.controllers.themes import THEMES
from conexoos.framework import db
from tests.app.conftest import Account, sign_up
from tests.support.live_server import LiveServer, run_live_server
from tests.support.services import REQUIRE_SERVICES

from .conftest import CHROMIUM

LIGHTHOUSE = Path(__file__).parents[1] / "support" / "lighthouse"
AUDIT_SCRIPT = LIGHTHOUSE / "audit.mjs"
CREATOR = "lumen"
SITE_PAGES = ("/", "/login", "/signup")


class Auditor:
    """``audit.mjs`` running: :meth:`audit` sends it one URL and reads back that URL's result."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    def audit(self, url: str) -> dict[str, Any]:
        """Lighthouse's accessibility result for ``url`` (score, error, failing audits)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(url + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"audit.mjs stopped before auditing {url} (status {self.process.poll()})")
        result: dict[str, Any] = json.loads(line)
        return result


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def auditor() -> Iterator[Auditor]:
    """One audit.mjs (one Chromium) for the module."""
    node = shutil.which("node")
    if node is None:
        _unavailable("Node.js is not installed (apt-get install nodejs)")
    if not (LIGHTHOUSE / "node_modules" / "lighthouse").is_dir():
        _unavailable("Lighthouse is missing: run `npm ci` in tests/support/lighthouse (scripts/test does)")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    process = subprocess.Popen(
        [str(node), str(AUDIT_SCRIPT)],
        cwd=LIGHTHOUSE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
    )
    try:
        yield Auditor(process)
    finally:
        assert process.stdin is not None
        process.stdin.close()  # audit.mjs then stops its Chromium and exits
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The product on a live server, with a creator whose page has an avatar, a bio, links and a product."""
    with run_live_server(tmp_path_factory.mktemp("lighthouse")) as live:
        fill_page(sign_up(live.app, CREATOR))
        yield live


def png(colour: str) -> bytes:
    """A small PNG of one colour."""
    stream = io.BytesIO()
    Image.new("RGB", (96, 96), colour).save(stream, "PNG")
    return stream.getvalue()


def fill_page(account: Account) -> None:
    """Give the account's page what a creator puts there, through the dashboard's own routes."""
    settings = account.client.post(
        "/dashboard/settings",
        content_type="multipart/form-data",
        data={
            "csrf_token": account.csrf,
            "display_name": "Lumen Studio",
            "bio": "Ceramics, workshops and a newsletter about glazes.\nBased in Porto.",
            "avatar": (io.BytesIO(png("teal")), "me.png"),
        },
    )
    assert settings.status_code == 302, settings.get_data(as_text=True)
    account.add_link("Portfolio", "https://portfolio.example/")
    account.add_link("Workshop dates", "https://workshops.example/dates")
    account.add_link("Newsletter", "https://news.example/")
    product = account.api(
        "POST",
        "/api/add/product",
        {
            "title": "Glaze notebook",
            "price": 1800,
            "currency": "EUR",
            "buy_url": "https://shop.example/glaze",
        },
    )
    assert product.status_code == 201, product.get_data(as_text=True)
    image = account.client.post(
        f"/api/product/{product.get_json()['id']}/image",
        data={"image": (io.BytesIO(png("orange")), "glaze.png")},
        headers={"X-CSRFToken": account.csrf},
        content_type="multipart/form-data",
    )
    assert image.status_code == 200, image.get_data(as_text=True)
    signup = account.api(
        "POST", "/api/blocks", {"kind": "capture", "title": "The glaze letter", "button": "Subscribe"}
    )
    assert signup.status_code == 201, signup.get_data(as_text=True)


def wear_theme(live: LiveServer, key: str) -> None:
    """Make ``key`` the theme every public page wears, and check the page wears it."""
    with live.app.app_context():
        site_settings.store(THEME_SETTING, key)
        db.session.commit()
    page = requests.get(f"{live.url}/{CREATOR}", timeout=10)
    assert page.status_code == 200 and f"theme-{key}" in page.text, f"the page does not wear theme {key}"


def report(result: dict[str, Any]) -> str:
    """The failing audits of one result, one per line, with the elements they name."""
    if result["error"]:
        return f"{result['url']}: Lighthouse failed: {result['error']}"
    lines = [f"{result['url']}: accessibility {round(result['score'] * 100)}"]
    for failed in result["failing"]:
        lines.append(f"  {failed['id']}: {failed['title']}")
        lines.extend(f"    {node}" for node in failed["nodes"][:5])
    return "\n".join(lines)


def test_every_page_scores_100_for_accessibility(site: LiveServer, auditor: Auditor) -> None:
    assert THEMES, "controllers/themes.py lists no theme"
    results = []
    for key in THEMES:
        wear_theme(site, key)
        results.append(auditor.audit(f"{site.url}/{CREATOR}?theme-under-audit={key}"))
    results.extend(auditor.audit(site.url + path) for path in SITE_PAGES)
    failures = [report(result) for result in results if result["score"] != 1]
    for result in results:
        print(report(result))
    assert len(results) == len(THEMES) + len(SITE_PAGES)
    assert not failures, "\n".join(failures)
