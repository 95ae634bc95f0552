"""One line per cause, whatever the driver wrote: psycopg's hint on a second line and SQLAlchemy's
"(Background on this error at: ...)" never split a log line, a ``tasks status`` line or the overview."""

from __future__ import annotations

import psycopg
import redis
from sqlalchemy.exc import OperationalError

from conexoos.framework.causes import one_line_cause
from conexoos.framework.connect_checks import network_cause
from conexoos.framework.startup import retry_delay
from conexoos.framework.task_status import describe_error

PSYCOPG_REFUSED = (
    'connection failed: connection to server at "127.0.0.1", port 5999 failed: Connection refused\n'
    "\tIs the server running on that host and accepting TCP/IP connections?"
)


def wrapped(driver_error: Exception) -> OperationalError:
    return OperationalError("SELECT 1", {}, driver_error)


def test_a_database_error_is_its_driver_first_line() -> None:
    error = wrapped(psycopg.OperationalError(PSYCOPG_REFUSED))
    assert "\n" in str(error) and "sqlalche.me" in str(error)  # what SQLAlchemy itself says
    assert one_line_cause(error) == "OperationalError: Connection refused"


def test_any_message_is_joined_on_one_line_and_bounded() -> None:
    assert one_line_cause(ValueError("first\n\tsecond  line")) == "ValueError: first second line"
    assert one_line_cause(RuntimeError()) == "RuntimeError"
    assert len(one_line_cause(ValueError("x" * 5000))) == 500


def test_a_task_error_with_its_causes_stays_on_one_line() -> None:
    try:
        try:
            raise wrapped(psycopg.OperationalError(PSYCOPG_REFUSED))
        except OperationalError as cause:
            raise RuntimeError("roll-up failed") from cause
    except RuntimeError as error:
        line = describe_error(error)
    assert line == "RuntimeError: roll-up failed <- caused by OperationalError: Connection refused"


def test_a_redis_timeout_is_worded_like_the_other_causes() -> None:
    line = network_cause(redis.TimeoutError("Timeout reading from socket"))
    assert line == "no answer: the connection timed out (Timeout reading from socket)"


def test_the_start_up_back_off_is_the_one_the_readme_states() -> None:
    assert [retry_delay(attempt) for attempt in range(1, 7)] == [0.5, 1.0, 2.0, 5.0, 5.0, 5.0]
