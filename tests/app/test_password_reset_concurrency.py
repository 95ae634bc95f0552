"""A reset link is single-use also when several requests bring it at the same moment: one sets its
password, the others get the "already used" page. Real requests from threads released together, on
SQLite here and on PostgreSQL and MariaDB by CI (``database_matrix``)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.controllers import password_reset
from conexoos.app.models.persistent import User

from .conftest import Account, form_token
from .test_accounts import post_login
from .test_plan_limits_concurrency import app  # noqa: F401 (the fixture: a pool wide enough for threads)

pytestmark = pytest.mark.database_matrix

PARALLEL = 6


def test_one_reset_link_posted_at_once_changes_the_password_once(app: Flask, alice: Account) -> None:  # noqa: F811
    with app.app_context():
        user = User.get_by_username("alice")
        assert user is not None
        path = f"/password/reset/{password_reset.reset_token(user)}"
    browsers = [app.test_client() for _ in range(PARALLEL)]
    tokens = [form_token(browser.get(path)) for browser in browsers]
    passwords = [f"reset number {number} of many" for number in range(PARALLEL)]
    barrier = threading.Barrier(PARALLEL)

    def post(number: int) -> tuple[int, str]:
        data = {"csrf_token": tokens[number], "password": passwords[number], "confirm": passwords[number]}
        barrier.wait(timeout=30)
        response = browsers[number].post(path, data=data)
        return response.status_code, response.get_data(as_text=True)

    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(post, range(PARALLEL)))
    statuses = [status for status, _ in answers]
    assert statuses.count(302) == 1, statuses
    assert statuses.count(410) == PARALLEL - 1, statuses
    assert all(password_reset.USED in page for status, page in answers if status == 410)
    winner = passwords[statuses.index(302)]
    assert post_login(app.test_client(), "alice", winner).status_code == 302
    for loser in set(passwords) - {winner}:
        assert post_login(app.test_client(), "alice", loser).status_code == 401
    assert _same_page_as_a_used_link(app.test_client(), path)


def _same_page_as_a_used_link(browser: FlaskClient, path: str) -> bool:
    response = browser.get(path)
    return response.status_code == 410 and password_reset.USED in response.get_data(as_text=True)
