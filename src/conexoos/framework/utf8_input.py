"""Form bodies must be UTF-8 text, urlencoded or multipart.

Werkzeug 3 decodes a percent-encoded byte that is no UTF-8 (``%FF``, or ``%ED%A0%80``, a lone surrogate)
back into its escape: a field sent as those bytes and one typed as the text ``%FF`` became the same
string, stored and shown as written. It decodes a multipart field's bytes with replacement characters:
``\\xff\\xfe`` was saved as two U+FFFD, the text silently changed. Here either is a 400 saying so, before
any view reads the form. (A JSON body is the JSON reader's to refuse. A multipart part that declares
another charset Werkzeug accepts, ``iso-8859-1`` or ``ascii``, is read in it. A query string is left to
each view: most of it is tracking data a page ignores when it is bad, and the views that read parameters
name the one they refuse.)

A multipart body that cannot be read at all (no boundary, no part, a part cut short or with broken
headers) is a 400 saying so too: Werkzeug read it as an empty form, and the first check that looked for a
field (the CSRF token, a view's required file) blamed what it did not find.
"""

from __future__ import annotations

import codecs
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from flask import Flask, request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser, MultiPartParser

if TYPE_CHECKING:
    from typing_extensions import Buffer

FORM = "application/x-www-form-urlencoded"
NOT_UTF8 = (
    "The form holds bytes that are not UTF-8 text (a percent-encoded byte such as %FF): send it again "
    "from the site's own page, or encode the text as UTF-8."
)
FIELD_NOT_UTF8 = (
    "A field of the form holds bytes that are not UTF-8 text: send it again from the site's own page, or "
    "encode the text as UTF-8."
)
UNREADABLE_FORM = (
    "This form could not be read: its body is not the multipart/form-data its Content-Type announces "
    "(a missing or wrong boundary, or a part whose headers are broken or cut short). Send it again from "
    "the page."
)
STRICT_CODEC = "conexoos-form-utf-8"
"""UTF-8 that refuses bad bytes whatever error handling its caller asks for (Werkzeug asks "replace")."""


def install_utf8_input(app: Flask) -> None:
    """Refuse, before every view, a form body that is not UTF-8."""
    app.before_request(refuse_undecodable_form)
    app.request_class = type("Request", (app.request_class,), {"form_data_parser_class": Utf8FormDataParser})


def refuse_undecodable_form() -> None:
    """400 when the urlencoded body does not decode as UTF-8 (a multipart one is refused as it is read)."""
    if request.mimetype == FORM and not _is_utf8(request.get_data(cache=True)):
        raise BadRequest(NOT_UTF8)


def _is_utf8(encoded: bytes) -> bool:
    """Whether ``encoded`` (``a=1&b=%C3%A9``) is UTF-8 text once percent-decoded."""
    if not encoded or (encoded.isascii() and b"%" not in encoded):
        return True  # the usual case, at C speed
    try:
        unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class UnreadableForm(BadRequest):
    """A multipart body Werkzeug's parser refused (it read it as an empty form, silently)."""

    description = UNREADABLE_FORM
    error_code = "malformed_form"


class Utf8FormDataParser(FormDataParser):
    """Werkzeug's form parser, whose multipart fields are read with :data:`STRICT_CODEC`, and which
    refuses a multipart body it cannot read (:class:`UnreadableForm`)."""

    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> tuple[IO[bytes], Any, Any]:
        parser = Utf8MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
        )
        if content_length == 0:  # no body at all: a form of no field, as an urlencoded empty body is
            return stream, self.cls(), self.cls()
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise UnreadableForm()
        try:
            form, files = parser.parse(stream, boundary, content_length)
        except ValueError as error:  # Werkzeug's "Invalid form-data cannot parse beyond State.PART"...
            raise UnreadableForm() from error
        return stream, form, files


class Utf8MultiPartParser(MultiPartParser):
    """Reads a part Werkzeug would decode as UTF-8 with :data:`STRICT_CODEC`."""

    def get_part_charset(self, headers: Headers) -> str:
        charset = super().get_part_charset(headers)
        return STRICT_CODEC if charset == "utf-8" else charset


def _strict_decode(data: Buffer, errors: str = "strict", /) -> tuple[str, int]:
    """Decode UTF-8, raising the 400 :data:`FIELD_NOT_UTF8` (not a ValueError, which Werkzeug would
    read as a broken form) for bytes that are not UTF-8; ``errors`` is ignored on purpose."""
    try:
        return codecs.utf_8_decode(data, "strict", True)
    except UnicodeDecodeError:
        raise BadRequest(FIELD_NOT_UTF8) from None


def _find_codec(name: str) -> codecs.CodecInfo | None:
    if name != STRICT_CODEC.replace("-", "_"):  # codecs.lookup hands search functions that spelling
        return None
    return codecs.CodecInfo(codecs.utf_8_encode, _strict_decode, name=STRICT_CODEC)


codecs.register(_find_codec)
