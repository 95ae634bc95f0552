"""framework.libpq's lists of values agree with the libpq psycopg loads: each listed value gets past libpq's
own check (the connection then fails for want of a server), a word outside them is refused by libpq too."""

from __future__ import annotations

import psycopg
import pytest

from conexoos.framework import libpq

NO_SERVER = "/nonexistent-conexoos-socket-dir"  # a Unix socket folder: fails at once, no network


def libpq_error(**parameters: str) -> str:
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(host=NO_SERVER, **parameters)
    return str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in libpq.CHOICES.items() for value in values]
)
def test_each_listed_value_passes_libpq_check(name: str, value: str) -> None:
    assert "invalid" not in libpq_error(**{"sslmode": "require", name: value})


@pytest.mark.parametrize("name", sorted(libpq.CHOICES))
def test_a_word_outside_the_list_is_refused_by_libpq_and_here(name: str) -> None:
    assert f'invalid {name} value: "nonsense"' in libpq_error(**{name: "nonsense"})
    assert libpq.values_problem({name: "nonsense"}) is not None


def test_every_checked_parameter_is_a_libpq_keyword() -> None:
    checked = {*libpq.INTEGERS, *libpq.CHOICES, "ssl_min_protocol_version", "require_auth", "port"}
    assert checked <= set(libpq.known_keywords())


def test_a_null_value_is_named_null_not_pythons_none() -> None:
    """``params: {sslmode: null}`` was refused as "cannot use sslmode 'None'"."""
    problem = libpq.values_problem({"sslmode": None})
    assert problem is not None and "sslmode null (no value) (expected one of " in problem, problem
    assert "None" not in problem
