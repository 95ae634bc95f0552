"""The ownership matrix: another user's link does not exist for you, whatever the verb."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Account

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

Attempt = Callable[[Account, dict[str, Any], dict[str, Any]], Any]

ATTEMPTS: dict[str, Attempt] = {
    "put": lambda bob, link, own: bob.api("PUT", f"/api/edit/link/{link['id']}", {"title": "Taken over"}),
    "put-empty": lambda bob, link, own: bob.api("PUT", f"/api/edit/link/{link['id']}", {}),
    "patch": lambda bob, link, own: bob.api("PATCH", f"/api/edit/link/{link['id']}", {"enabled": False}),
    "delete": lambda bob, link, own: bob.api("DELETE", f"/api/delete/link/{link['id']}"),
    "reorder-with-own": lambda bob, link, own: bob.api(
        "POST", "/api/links/reorder", {"ids": [link["id"], own["id"]]}
    ),
    "reorder-alone": lambda bob, link, own: bob.api("POST", "/api/links/reorder", {"ids": [link["id"]]}),
}


@pytest.mark.parametrize("verb", list(ATTEMPTS))
def test_another_users_link_is_a_404_and_stays_unchanged(alice: Account, bob: Account, verb: str) -> None:
    alice.add_link("First of Alice", "https://alice.example/1")
    target = alice.add_link("Alice's", "https://alice.example/2")
    own = bob.add_link("Bob's", "https://bob.example/")
    alice_before, bob_before = alice.links(), bob.links()

    response = ATTEMPTS[verb](bob, target, own)

    assert response.status_code == 404, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "not_found"
    text = response.get_data(as_text=True)
    assert "Alice" not in text and "alice.example" not in text
    assert alice.links() == alice_before
    assert bob.links() == bob_before


def test_the_same_404_as_for_a_link_that_never_existed(alice: Account, bob: Account) -> None:
    target = alice.add_link()
    foreign = bob.api("PUT", f"/api/edit/link/{target['id']}", {"title": "x"})
    missing = bob.api("PUT", f"/api/edit/link/{target['id'] + 1000}", {"title": "x"})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.get_json() == missing.get_json()


def test_the_list_holds_only_your_own_links(alice: Account, bob: Account) -> None:
    alice_links = [alice.add_link(f"A{n}", f"https://alice.example/{n}") for n in range(3)]
    bob_link = bob.add_link("B", "https://bob.example/")
    assert bob.links() == [bob_link]
    assert alice.links() == alice_links
    assert not {link["id"] for link in alice_links} & {link["id"] for link in bob.links()}


def test_a_new_link_belongs_to_its_creator_only(alice: Account, bob: Account) -> None:
    """Order positions are per user: Bob's first link is at 0 whatever Alice has."""
    for n in range(3):
        alice.add_link(f"A{n}")
    assert bob.add_link("B")["order_index"] == 0


def test_the_owner_can_still_do_everything(alice: Account, bob: Account) -> None:
    """Control for the matrix: the same calls by the owner succeed."""
    first = alice.add_link("One")
    second = alice.add_link("Two")
    bob.add_link("Bob's")
    assert alice.api("PUT", f"/api/edit/link/{first['id']}", {"title": "Uno"}).status_code == 200
    assert alice.api("POST", "/api/links/reorder", {"ids": [second["id"], first["id"]]}).status_code == 200
    assert alice.api("DELETE", f"/api/delete/link/{second['id']}").status_code == 204
    assert [link["title"] for link in alice.links()] == ["Uno"]


@pytest.mark.parametrize("item_id", ["0", str(2**31 - 1), str(2**31), str(2**63), "9" * 30, "007"])
def test_ids_no_row_can_have_are_a_404_on_every_route(alice: Account, client: Any, item_id: str) -> None:
    """An id its INTEGER column cannot hold never reaches the database, which would raise."""
    alice.add_link()
    writes = [
        ("PUT", f"/api/edit/link/{item_id}", {"title": "x"}),
        ("DELETE", f"/api/delete/link/{item_id}", None),
        ("PUT", f"/api/edit/product/{item_id}", {"title": "x"}),
        ("DELETE", f"/api/delete/product/{item_id}", None),
        ("POST", f"/api/product/{item_id}/image", None),
    ]
    for method, path, body in writes:
        response = alice.api(method, path, body)
        assert response.status_code == 404, (path, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"] == "not_found"
    for path in (f"/go/{item_id}", f"/go/product/{item_id}"):
        assert client.get(path).status_code == 404, path
