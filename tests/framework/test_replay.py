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


def test_the_oldest_variant_goes_past_the_limit_or_the_bytes_and_a_too_large_body_is_not_kept() -> None:
    kept = KeptAnswers(max_bytes=30, limit=3)
    for variant in ("a", "b", "c", "d"):
        kept.keep(variant, answer(b"x" * 5))
    assert kept.get("a") is None and [kept.get(name) is not None for name in "bcd"] == [True] * 3
    kept.keep("e", answer(b"y" * 25))  # 15 + 25 > 30: the oldest go until it fits
    assert [name for name in "bcde" if kept.get(name) is not None] == ["d", "e"] and kept.size == 30
    kept.keep("f", answer(b"z" * 31))
    assert kept.get("f") is None and kept.size == 30
    kept.keep("e", answer(b""))  # kept again for the same variant: replaced, not counted twice
    assert kept.size == 5 and len(kept) == 2


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
