"""A structure check of uploaded PDFs, before the media library stores them (with pypdf, strict mode).

A PDF is accepted only when it is one well-formed PDF and nothing else: it starts with a ``%PDF-1.x`` or
``%PDF-2.0`` header at its first byte and ends with ``%%EOF`` (so no other format's data hides before or
after it: the polyglot case), pypdf reads its cross-reference table and trailer without repairing them,
every object it lists can be read, and it has at least one page. It is refused when it is encrypted (we
could not look inside), or when any object holds JavaScript, an action that runs by itself (``/OpenAction``
as an action, ``/AA``) or opens something outside the file (``/Launch``, ``/GoToE``, ``/ImportData``), or an
embedded file. Names are compared as pypdf decodes them, so ``/J#61vaScript`` is ``/JavaScript``, and
objects inside compressed object streams are walked too. An ``/OpenAction`` that only shows a page (a
destination, or a ``/GoTo`` action, as word processors and LaTeX write) is allowed.
"""

from __future__ import annotations

import re
from io import BytesIO
from typing import TYPE_CHECKING

from conexoos.framework.lazy import lazy_module

# pypdf (15 MiB, 0.2 s) is imported at the first PDF upload, not with the app (see framework/lazy.py).
if TYPE_CHECKING:
    import pypdf
    from pypdf import errors as pdf_errors
    from pypdf import generic
else:
    pypdf = lazy_module("pypdf")
    pdf_errors = lazy_module("pypdf.errors")
    generic = lazy_module("pypdf.generic")

HEADER = re.compile(rb"%PDF-(1\.[0-7]|2\.0)[\r\n \t%]")
END = re.compile(rb"%%EOF[\r\n\t \x00]*\Z")
MAX_OBJECTS = 200_000
"""The most objects a PDF may list: bounds the time the walk takes."""
MAX_DEPTH = 64
SCRIPT_KEYS = {"/JS": "JavaScript", "/JavaScript": "JavaScript"}
AUTOMATIC_KEYS = {"/AA": "actions that run by themselves (/AA)"}
EMBEDDED = "an embedded file"
EMBEDDED_KEYS = {"/EmbeddedFiles": EMBEDDED, "/EmbeddedFile": EMBEDDED, "/EF": EMBEDDED}
FORBIDDEN_ACTIONS = {
    "/JavaScript": "JavaScript",
    "/Launch": "a Launch action (it opens another program or file)",
    "/GoToE": "an action that opens an embedded file",
    "/ImportData": "an action that imports data from another file",
    "/RichMediaExecute": "a rich-media action",
}
FORBIDDEN_TYPES = {"/EmbeddedFile": "an embedded file", "/FileAttachment": "an embedded file attachment"}


class InvalidPdf(ValueError):
    """A PDF refused; the message says why, in words for the person who uploaded it."""


def check_pdf(data: bytes) -> int:
    """Check ``data`` as described in the module; its page count when it passes, InvalidPdf when not."""
    if not HEADER.match(data[:16]):
        raise InvalidPdf("This file is not a PDF: it does not start with a PDF header (%PDF-1.x).")
    if not END.search(data[-64:]):
        raise InvalidPdf(
            "This PDF is truncated or has other data after its end (%%EOF); save or export it again."
        )
    reader = _reader(data)
    if reader.is_encrypted:
        raise InvalidPdf("This PDF is encrypted or password-protected; upload a copy without protection.")
    try:
        pages = len(reader.pages)
        _walk_every_object(reader)
    except InvalidPdf:
        raise
    # On a hostile file pypdf raises errors of many kinds besides its own (zlib.error, struct.error,
    # KeyError, RecursionError...): whichever, the file cannot be checked; it is refused, never a 500.
    except Exception as error:  # noqa: BLE001
        raise InvalidPdf(f"This PDF is damaged and cannot be checked ({_short(error)}).") from None
    if pages < 1:
        raise InvalidPdf("This PDF has no page.")
    return pages


def _reader(data: bytes) -> pypdf.PdfReader:
    try:
        return pypdf.PdfReader(BytesIO(data), strict=True)
    # On a hostile file pypdf raises errors of many kinds besides its own (zlib.error, struct.error,
    # KeyError, RecursionError...): whichever, the file cannot be checked; it is refused, never a 500.
    except Exception as error:  # noqa: BLE001
        if isinstance(error, pdf_errors.PdfReadError) and "xref" in str(error).lower():
            raise InvalidPdf(
                f"This PDF's cross-reference table is broken ({_short(error)}); save or export it again."
            ) from None
        raise InvalidPdf(f"This PDF is damaged and cannot be read ({_short(error)}).") from None


def _walk_every_object(reader: pypdf.PdfReader) -> None:
    """Look at the trailer and every object the cross-reference tables list (object streams included)."""
    references = [(number, generation) for generation, numbers in reader.xref.items() for number in numbers]
    references += [(number, 0) for number in reader.xref_objStm]
    if len(references) > MAX_OBJECTS:
        raise InvalidPdf(f"This PDF has {len(references):,} objects; the most accepted is {MAX_OBJECTS:,}.")
    _inspect(reader.trailer, 0)
    root = reader.trailer.get("/Root")
    root = root.get_object() if isinstance(root, generic.IndirectObject) else root
    if isinstance(root, generic.DictionaryObject):
        _inspect_open_action(root.get("/OpenAction"))
    for number, generation in references:
        found = reader.get_object(generic.IndirectObject(number, generation, reader))
        _inspect(found, 0)


def _inspect_open_action(action: generic.PdfObject | None) -> None:
    """An ``/OpenAction`` may only show a place in the file: a destination, or a ``/GoTo`` action with no
    ``/Next`` (as LaTeX's hyperref writes); any other action run on opening is refused."""
    if isinstance(action, generic.IndirectObject):
        action = action.get_object()
    if not isinstance(action, generic.DictionaryObject):
        return
    if action.get("/S") != "/GoTo" or "/Next" in action:
        raise InvalidPdf(
            "This PDF runs an action when it is opened (/OpenAction other than going to a page); "
            "we do not accept that."
        )


def _inspect(value: generic.PdfObject | None, depth: int) -> None:
    """Refuse ``value`` when it (or what it holds directly, not through references) is forbidden."""
    if depth > MAX_DEPTH:
        raise InvalidPdf("This PDF nests its objects too deeply to be checked.")
    if isinstance(value, generic.DictionaryObject):
        for key, item in value.items():
            _inspect_entry(str(key), item)
            _inspect(item, depth + 1)
    elif isinstance(value, generic.ArrayObject):
        for item in value:
            _inspect(item, depth + 1)


def _inspect_entry(key: str, item: generic.PdfObject) -> None:
    why = SCRIPT_KEYS.get(key) or AUTOMATIC_KEYS.get(key) or EMBEDDED_KEYS.get(key)
    if why is None and key == "/S" and isinstance(item, generic.NameObject):
        why = FORBIDDEN_ACTIONS.get(str(item))
    if why is None and key in ("/Type", "/Subtype") and isinstance(item, generic.NameObject):
        why = FORBIDDEN_TYPES.get(str(item))
    if why is not None:
        raise InvalidPdf(
            f"This PDF contains {why}; we accept only PDFs without scripts, actions or attachments."
        )


def _short(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."
