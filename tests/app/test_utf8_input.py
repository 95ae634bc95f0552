"""A form holding bytes that are not UTF-8 is a 400, never stored as its escapes: Werkzeug decodes such a
byte back into ``%FF``, which was then kept as the text a person typed."""

from __future__ import annotations

import io

import pytest
from flask import Flask

from conexoos.framework.utf8_input import UnreadableForm, Utf8FormDataParser

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


def multipart(token: str, display_name: bytes, charset: str = "") -> bytes:
    """A settings form as multipart/form-data (boundary ``b0undary``), the name as raw bytes."""
    declared = f"\r\nContent-Type: text/plain; charset={charset}" if charset else ""
    return (
        b'--b0undary\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode() + b"\r\n"
        b'--b0undary\r\nContent-Disposition: form-data; name="display_name"'
        + declared.encode()
        + b"\r\n\r\n"
        + display_name
        + b"\r\n"
        b'--b0undary\r\nContent-Disposition: form-data; name="bio"\r\n\r\nx\r\n--b0undary--\r\n'
    )


def test_a_multipart_field_that_is_no_utf8_is_refused_not_saved_with_replacement_characters(
    alice: Account,
) -> None:
    """Werkzeug decodes a multipart field with "replace": \\xff\\xfe was saved as two U+FFFD."""
    token = form_token(alice.client.get("/dashboard/settings"))
    multipart_form = "multipart/form-data; boundary=b0undary"
    for name in (b"\xff\xfe", b"A\xed\xa0\x80B", b"caf\xe9"):
        refused = alice.client.post(
            "/dashboard/settings", data=multipart(token, name), content_type=multipart_form
        )
        assert refused.status_code == 400, name
        assert "A field of the form " + NOT_UTF8 in refused.get_data(as_text=True)
    assert "\ufffd" not in alice.client.get("/alice").get_data(as_text=True)
    for name, charset, shown in (
        (b"Caf\xc3\xa9 \xef\xbf\xbd", "", "Café \ufffd"),
        (b"Caf\xe9", "iso-8859-1", "Café"),
    ):
        saved = alice.client.post(
            "/dashboard/settings", data=multipart(token, name, charset), content_type=multipart_form
        )
        assert saved.status_code == 302, name  # UTF-8 (a typed U+FFFD included), or the charset declared
        assert shown in alice.client.get("/alice").get_data(as_text=True)


@pytest.mark.parametrize(("body", "length"), [(b"", 0), (b"", None), (b"--zz\r\nbroken", 12)])
def test_a_multipart_body_of_no_bytes_is_an_empty_form_and_a_broken_one_is_refused(
    body: bytes, length: int | None
) -> None:
    """``Content-Length: 0`` is a form of no field, as an empty urlencoded body is; it was "unreadable"."""
    parser = Utf8FormDataParser()
    if length == 0:
        _stream, form, files = parser.parse(
            io.BytesIO(body), "multipart/form-data", length, {"boundary": "zz"}
        )
        assert not form and not files
    else:
        with pytest.raises(UnreadableForm):
            parser.parse(io.BytesIO(body), "multipart/form-data", length, {"boundary": "zz"})
