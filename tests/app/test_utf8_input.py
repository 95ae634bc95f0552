"""A form holding bytes that are not UTF-8 is a 400, never stored as its escapes: Werkzeug decodes such a
byte back into ``%FF``, which was then kept as the text a person typed."""

from __future__ import annotations

from flask import Flask

from .conftest import Account, form_token

NOT_UTF8 = "holds bytes that are not UTF-8 text"


def test_a_form_with_a_byte_that_is_no_utf8_is_refused_and_nothing_saved(app: Flask, alice: Account) -> None:
    token = form_token(alice.client.get("/dashboard/settings"))
    for name in (b"A%ED%A0%80B", b"A%FFB", b"A\xffB"):  # a lone surrogate, a stray byte, a raw byte
        body = b"csrf_token=" + token.encode() + b"&display_name=" + name + b"&bio=x"
        refused = alice.client.post(
            "/dashboard/settings", data=body, content_type="application/x-www-form-urlencoded"
        )
        assert refused.status_code == 400, name
        assert "The form " + NOT_UTF8 in refused.get_data(as_text=True)
    page = alice.client.get("/alice").get_data(as_text=True)
    assert "%ED%A0%80" not in page and "%FF" not in page
    typed = b"csrf_token=" + token.encode() + b"&display_name=100%25FF&bio=x"  # the text "100%FF", typed
    assert alice.client.post(
        "/dashboard/settings", data=typed, content_type="application/x-www-form-urlencoded"
    ).status_code in (200, 302)
    assert "100%FF" in alice.client.get("/alice").get_data(as_text=True)
