"""The cyclic collector at start-up (``framework/startup_gc.py``): paused while the framework is imported
and an app made, then running again as it was; an app made outside a server freezes nothing."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from conexoos.framework.startup_gc import collection_paused
from tests.conftest import AppFactory


@pytest.fixture
def collector_state() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_collection_is_paused_inside_and_restored_after_even_on_an_error(collector_state: None) -> None:
    gc.enable()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collection_paused():
        raise ValueError("a failing import")
    assert gc.isenabled()


def test_a_collector_disabled_by_the_caller_stays_disabled(collector_state: None) -> None:
    gc.disable()
    with collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_making_an_app_outside_a_server_freezes_nothing(make_app: AppFactory) -> None:
    """Tests and commands make apps too: their objects must stay collectable."""
    before = gc.get_freeze_count()
    make_app()
    assert gc.get_freeze_count() == before and gc.isenabled()
