"""A WebSocket upgrade to a page is a 400 that says so. Werkzeug answered 400 with a generic message, and
405 "the method is not allowed" to a GET of ``/go/<id>`` (a URL with a GET and a POST rule)."""

from __future__ import annotations

import pytest
from flask import Flask

from conexoos.framework.http_errors import WEBSOCKET_ELSEWHERE

from .conftest import Account

UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@pytest.mark.parametrize("path", ["/go/{link}", "/alice", "/login", "/api/links"])
def test_a_websocket_upgrade_to_a_page_is_a_400_that_says_so(app: Flask, alice: Account, path: str) -> None:
    link = alice.add_link("Shop", "https://shop.example/")["id"]
    response = app.test_client().get(path.format(link=link), headers=UPGRADE)
    assert response.status_code == 400
    assert WEBSOCKET_ELSEWHERE in response.get_data(as_text=True)


def test_an_unknown_address_stays_a_404_and_a_plain_get_is_untouched(app: Flask, alice: Account) -> None:
    link = alice.add_link("Shop", "https://shop.example/")["id"]
    assert app.test_client().get("/no/such/thing", headers=UPGRADE).status_code == 404
    assert app.test_client().get(f"/go/{link}").status_code == 302
