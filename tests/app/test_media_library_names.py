"""The media library's parsing of what people send: PDFs of any bytes, and file names of any text.

Hypothesis feeds ``check_pdf`` mutations of a valid PDF and arbitrary bytes: it accepts or refuses with
InvalidPdf, never anything else. File names of any text become a display name without control characters
or path parts, and a ``Content-Disposition`` that is ASCII and gives the name back exactly."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conexoos.app.controllers.media_library import attachment_header, display_name
from conexoos.app.models.persistent.media_item import NAME_MAX
from conexoos.app.utils.pdf_check import InvalidPdf, check_pdf

from .media_library_support import one_page_pdf

VALID = one_page_pdf(b"/OpenAction [3 0 R /Fit]")


def test_the_valid_pdf_passes() -> None:
    assert check_pdf(VALID) == 1


@pytest.mark.parametrize(
    ("open_action", "accepted"),
    [
        (b"/OpenAction << /S /GoTo /D [3 0 R /Fit] >>", True),  # LaTeX's hyperref writes this
        (b"/OpenAction 4 0 R", True),
        (b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next << /S /URI /URI (https://x.example/) >> >>", False),
        (b"/OpenAction << /S /URI /URI (https://x.example/) >>", False),
        (b"/OpenAction << /S /SubmitForm /F (https://x.example/) >>", False),
    ],
)
def test_an_open_action_may_only_show_a_page(open_action: bytes, accepted: bool) -> None:
    data = one_page_pdf(open_action, more=[b"<< /S /GoTo /D [3 0 R /XYZ 0 0 0] >>"])
    if accepted:
        assert check_pdf(data) == 1
    else:
        with pytest.raises(InvalidPdf, match="/OpenAction other than going to a page"):
            check_pdf(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(VALID) - 1), st.binary(min_size=1, max_size=8), st.integers(0, 8))
def test_a_mutated_pdf_is_accepted_or_refused_with_words(at: int, inserted: bytes, removed: int) -> None:
    mutated = VALID[:at] + inserted + VALID[at + removed :]
    try:
        check_pdf(mutated)
    except InvalidPdf as error:
        assert str(error).startswith("This ")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_after_a_pdf_header_are_refused_with_words(tail: bytes) -> None:
    with pytest.raises(InvalidPdf):
        check_pdf(b"%PDF-1.4\n" + tail)


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("C:\\Users\\me\\report.pdf", "pdf", "report.pdf"),
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ('a "quoted"\r\nname.PDF', "pdf", "a _quoted_name.PDF"),
        ("\u202eevil\u200b.pdf", "pdf", "evil.pdf"),
        ("...", "pdf", "document.pdf"),
        ("", "image", "image"),
        ("Cafe\u0301 menu.jpg", "image", "Café menu.jpg"),
        ("x" * 300 + ".pdf", "pdf", "x" * (NAME_MAX - 4) + ".pdf"),
    ],
)
def test_display_names_are_cleaned(raw: str, kind: str, expected: str) -> None:
    assert display_name(raw, kind) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_file_name_gives_a_safe_display_name_and_an_exact_ascii_header(raw: str) -> None:
    name = display_name(raw, "pdf")
    assert 1 <= len(name) <= NAME_MAX and name.lower().endswith(".pdf")
    assert not any(unicodedata.category(char).startswith("C") or char in '\\/"<>' for char in name)
    header = attachment_header(name)
    header.encode("ascii")
    fallback, encoded = header.split("; filename*=UTF-8''")
    assert fallback.startswith('attachment; filename="') and fallback.count('"') == 2
    assert unquote(encoded) == name and ";" not in encoded and " " not in encoded
