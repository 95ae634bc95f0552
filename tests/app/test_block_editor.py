"""The dashboard's page-layout editor is drawn from the block registry: a menu entry and a form per kind,
each control chosen from the field's schema, so a new kind needs no editor change."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from conexoos.app.controllers.blocks.registry import KINDS
from conexoos.app.dto.block_editor import editor_kind, editor_kinds
from conexoos.app.dto.fields import Schema, boolean, integer, text
from conexoos.app.dto.links import url_field

from .conftest import Account


@dataclass(frozen=True)
class Kind:
    """A kind as the registry holds it, made up here: what a future kind would declare."""

    name: str
    singular: str
    create: Schema


class Controls(HTMLParser):
    """The menu's options and, per ``<template id="kind-fields-…">``, its controls' (name, data-control)."""

    def __init__(self) -> None:
        super().__init__()
        self.options: list[str] = []
        self.kinds: dict[str, list[tuple[str, str]]] = {}
        self.current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "option" and found.get("data-description") is not None:
            self.options.append(str(found["value"]))
        if tag == "template" and str(found.get("id", "")).startswith("kind-fields-"):
            self.current = str(found["id"]).removeprefix("kind-fields-")
            self.kinds[self.current] = []
        if self.current and found.get("data-control"):
            name = found.get("name") or found.get("data-field")
            self.kinds[self.current].append((str(name), str(found["data-control"])))

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.current = None


def test_every_registered_kind_is_in_the_menu_with_its_fields(alice: Account) -> None:
    response = alice.client.get("/dashboard")
    assert response.status_code == 200
    page = Controls()
    page.feed(response.get_data(as_text=True))
    assert page.options == list(KINDS)
    assert page.kinds["link"] == [("title", "text"), ("url", "url")]  # its schedule and lock: the links list
    assert page.kinds["header"] == [("title", "text")]
    assert page.kinds["text"] == [("text", "textarea")]
    assert page.kinds["divider"] == []
    assert page.kinds["embed"] == [("url", "url"), ("title", "text")]
    assert page.kinds["social"] == [("items", "profiles")]
    assert page.kinds["product"] == [
        ("title", "text"),
        ("description", "textarea"),
        ("price", "price"),  # typed in the currency's units, sent in minor units
        ("currency", "text"),
        ("buy_url", "url"),
    ]


def test_a_new_kind_gets_its_form_from_its_schema_alone() -> None:
    schema = Schema(
        "CaptureBlock",
        (
            text("title", 100, required=True),
            text("thanks", 1000, allow_empty=True),
            integer("limit", minimum=1),
            url_field("privacy_url", required=False),
            boolean("enabled"),
        ),
        "An email sign-up form.",
    )
    [kind] = editor_kinds([Kind("capture", "sign-up form", schema)])
    assert kind.label == "Sign-up form"
    assert kind.description == "An email sign-up form."
    assert [(field.name, field.label, field.control, field.required) for field in kind.fields] == [
        ("title", "Title", "text", True),
        ("thanks", "Thanks", "textarea", False),
        ("limit", "Limit", "number", False),
        ("privacy_url", "Privacy url", "url", False),
    ]
    assert kind.fields[0].max_length == 100


def test_labels_that_depend_on_the_kind_and_fields_left_to_the_kinds_own_editor() -> None:
    embed = editor_kind("embed", "embed", KINDS["embed"].create)
    assert [field.label for field in embed.fields] == ["Link to the video or track", "Title"]
    link = editor_kind("link", "link", KINDS["link"].create)
    assert {field.name for field in link.fields} == {"title", "url"}  # no switches, times or password
    assert editor_kind("product", "product", KINDS["product"].create).description.startswith("A product card")


def sent(alice: Account, path: str, body: str) -> tuple[int, str]:
    """POST ``body`` as it is (JSON text) and return the status and the error's message."""
    response = alice.api("POST", path, data=body, content_type="application/json")
    return response.status_code, response.get_json()["error"]["message"]


def test_bodies_the_editor_cannot_use_are_refused_in_words_that_say_what_is_wrong(alice: Account) -> None:
    assert sent(alice, "/api/blocks/reorder", "null") == (
        400,
        "the request body must be a JSON object, not null",
    )
    status, message = sent(alice, "/api/blocks/reorder", '{"ids": [' + "9" * 5000 + "]}")
    assert status == 400
    assert message == "a number in the request body is too large (it has more than 4300 digits)"
    status, message = sent(alice, "/api/blocks/reorder", '{"ids": [1,')
    assert status == 400 and message.startswith("the request body is not valid JSON ("), message
    status, message = sent(alice, "/api/blocks/reorder", '{"ids": "a\x00b"}')
    assert (status, message) == (
        400,
        "the request body is not valid JSON (Invalid control character at character 10)",
    )


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (
            '{"kind": "header", "title": "Shown", "title": "Saved"}',
            'gives the key "title" twice in one object',
        ),
        ('{"kind": "social", "items": [{"network": "github", "network": "x"}]}', 'the key "network" twice'),
        ('{"kind": "header", "title": "A", "position": NaN}', "holds NaN, which is not a JSON number"),
        ('{"kind": "header", "title": "A", "position": -Infinity}', "holds -Infinity, which is not a JSON"),
    ],
)
def test_a_body_that_says_two_things_or_is_not_json_is_refused_whole(
    alice: Account, body: str, said: str
) -> None:
    """Python's decoder reads these (the last of two keys wins, NaN is a float); JSON does not say them."""
    status, message = sent(alice, "/api/blocks", body)
    assert status == 400
    assert said in message, message
    assert alice.api("GET", "/api/blocks").get_json() == []


def test_a_stale_order_and_a_logout_elsewhere_are_said_as_a_person_would(alice: Account) -> None:
    first = alice.api("POST", "/api/blocks", {"kind": "header", "title": "One"}).get_json()
    alice.api("POST", "/api/blocks", {"kind": "header", "title": "Two"})
    response = alice.api("POST", "/api/blocks/reorder", {"ids": [first["id"]]})  # read before Two was added
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "incomplete"
    assert error["message"].startswith("Your blocks changed in another tab or window: reload to see them")
    response = alice.api("POST", "/api/blocks/reorder", {"ids": [first["id"], 999_999]})  # deleted elsewhere
    assert response.status_code == 404
    assert "no longer exists (deleted in another tab or window?)" in response.get_json()["error"]["message"]

    alice.client.post("/logout", headers={"X-CSRFToken": alice.csrf})
    response = alice.api("POST", "/api/blocks/reorder", {"ids": [first["id"]]})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == (
        "You are not logged in (logged out in another tab or window?): log in to go on."
    )
