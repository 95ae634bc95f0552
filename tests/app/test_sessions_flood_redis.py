"""A flood of cookieless form-page requests stores at most one session in Redis (the session folder's
case: test_sessions_anonymous.py; apart so that CI runs the two floods side by side)."""

from __future__ import annotations

import pytest

from tests.conftest import AppFactory

from .session_flood import FLOOD_TIMEOUT, flood_stores_at_most_one_session

pytestmark = pytest.mark.services


@pytest.mark.timeout(FLOOD_TIMEOUT)
def test_ten_thousand_cookieless_login_pages_store_at_most_one_session_in_redis(make_app: AppFactory) -> None:
    flood_stores_at_most_one_session(make_app, "redis")
