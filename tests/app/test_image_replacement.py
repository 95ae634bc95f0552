"""A product's image and a link's thumbnail are replaced by one function (``controllers/image_replacement``):
the same answers for a missing file, the old file deleted once replaced, and the new file deleted when the
row cannot be changed, for both."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from conexoos.app.controllers import image_replacement

from .conftest import Account
from .leaving_support import png_bytes, uploads

pytestmark = pytest.mark.database_matrix


def product_target(account: Account) -> str:
    body = {"title": "Book", "price": 100, "currency": "EUR", "buy_url": "https://shop.example/b"}
    return f"/api/product/{account.api('POST', '/api/add/product', body).get_json()['id']}/image"


def link_target(account: Account) -> str:
    return f"/api/link/{account.add_link('Blog', 'https://blog.example/')['id']}/icon"


TARGETS: dict[str, tuple[Callable[[Account], str], str, str]] = {
    "product image": (product_target, "image", "img/products"),
    "link thumbnail": (link_target, "icon", "img/link-icons"),
}


def post(account: Account, path: str, field: str, data: bytes | None) -> Any:
    form = {field: (io.BytesIO(data), "picture.png")} if data is not None else {}
    return account.api("POST", path, data=form, content_type="multipart/form-data")


def files_in(app: Flask, folder: str) -> list[Path]:
    return sorted((uploads(app) / folder).glob("*.webp"))


@pytest.mark.parametrize("target", list(TARGETS))
def test_a_replaced_image_leaves_only_the_new_file(app: Flask, alice: Account, target: str) -> None:
    make, field, folder = TARGETS[target]
    path = make(alice)
    missing = post(alice, path, field, None)
    assert missing.status_code == 422
    assert missing.get_json()["error"] == {
        "code": "required",
        "field": field,
        "message": f"send the image in the multipart field '{field}'",
    }
    assert post(alice, path, field, png_bytes("red")).status_code == 200
    [first] = files_in(app, folder)
    assert post(alice, path, field, png_bytes("blue")).status_code == 200
    [second] = files_in(app, folder)
    assert second != first  # the old file is deleted once the row names the new one


@pytest.mark.parametrize("target", list(TARGETS))
def test_a_row_that_cannot_be_changed_leaves_no_new_file(
    app: Flask, alice: Account, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, field, folder = TARGETS[target]
    path = make(alice)

    @contextmanager
    def failing(user: object) -> Any:
        raise RuntimeError("the database went away")
        yield

    monkeypatch.setattr(image_replacement, "locked_owner", failing)
    with pytest.raises(RuntimeError, match="went away"):
        post(alice, path, field, png_bytes("green"))
    assert files_in(app, folder) == []
