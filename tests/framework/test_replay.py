"""Finished answers kept per variant (``framework/replay.py``): bounded in number and bytes, sent with the
current Date, read from a response as Werkzeug sends it."""

from __future__ import annotations

from werkzeug.http import http_date, parse_date
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from conexoos.framework.replay import FinishedAnswer, KeptAnswers, finished_answer

OLD_DATE = "Thu, 01 Jan 2026 00:00:00 GMT"


def answer(body: bytes) -> FinishedAnswer:
    return FinishedAnswer("200 OK", [("Content-Length", str(len(body))), ("Date", OLD_DATE)], body, 1)


def bare(body: bytes) -> FinishedAnswer:
    """An answer without headers: it weighs its body's length."""
    return FinishedAnswer("200 OK", [], body, -1)


def test_the_oldest_variant_goes_past_the_limit_or_the_bytes_and_a_too_large_answer_is_not_kept() -> None:
    kept = KeptAnswers(max_bytes=30, limit=3)
    for variant in ((1,), (2,), (3,), (4,)):
        kept.keep(variant, bare(b"x" * 5))
    assert kept.get((1,)) is None and [kept.get((n,)) is not None for n in (2, 3, 4)] == [True] * 3
    kept.keep((5,), bare(b"y" * 25))  # 15 + 25 > 30: the oldest go until it fits
    assert [n for n in (2, 3, 4, 5) if kept.get((n,)) is not None] == [4, 5] and kept.size == 30
    kept.keep((6,), bare(b"z" * 31))
    assert kept.get((6,)) is None and kept.size == 30
    kept.keep((5,), bare(b""))  # kept again for the same variant: replaced, not counted twice
    assert kept.size == 5 and len(kept) == 2


def test_headers_and_variant_texts_count_so_bodiless_answers_cannot_grow_past_the_bound() -> None:
    """HEAD and 304 answers have no body: their headers and the request's header values that name their
    variant are what they hold, and are counted against the bound."""
    empty = FinishedAnswer("304 NOT MODIFIED", [("ETag", 'W/"e"'), ("Date", OLD_DATE)], b"", 1)
    assert empty.weight == len("ETag") + len('W/"e"') + len("Date") + len(OLD_DATE)
    kept = KeptAnswers(max_bytes=1000, limit=100)
    for number in range(50):
        kept.keep(("HEAD", f"{number:03d}" + "x" * 200), empty)
    assert kept.size <= 1000 and len(kept) == 1000 // (empty.weight + 203)
    kept.keep(("GET", "y" * 1000), empty)  # alone above the bound: not kept, nothing dropped
    assert kept.get(("GET", "y" * 1000)) is None and kept.size <= 1000


def test_a_kept_answer_is_sent_with_the_current_date_and_nothing_else_changed() -> None:
    headers = answer(b"body").headers_now()
    assert headers[0] == ("Content-Length", "4") and headers[1][0] == "Date"
    sent = parse_date(headers[1][1])
    assert headers[1][1] != OLD_DATE and sent is not None
    assert abs(sent.timestamp() - parse_date(http_date()).timestamp()) <= 1  # type: ignore[union-attr]


def test_the_finished_answer_is_what_werkzeug_sends_get_and_head() -> None:
    response = Response("<p>hi</p>", mimetype="text/html")
    response.headers["Date"] = OLD_DATE
    for method, body in (("GET", b"<p>hi</p>"), ("HEAD", b"")):
        finished = finished_answer(response, EnvironBuilder(method=method).get_environ())
        assert finished.status == "200 OK" and finished.body == body and finished.status_code == 200
        assert finished.headers[finished.date_at] == ("Date", OLD_DATE)
        assert ("Content-Length", "9") in finished.headers
