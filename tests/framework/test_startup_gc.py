"""The cyclic collector at start-up (``framework/startup_gc.py``): paused while the framework is imported
and an app made, then running again as it was; an app made outside a server freezes nothing."""

from __future__ import annotations

import gc
import weakref
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


class _Node:
    """A tracked object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def test_what_the_block_made_is_aged_not_walked_and_its_garbage_still_freed(collector_state: None) -> None:
    """The next young collection after the block must not walk everything the block made (it would free
    nothing and cost tens of milliseconds after the framework's import), and a cycle made there that is
    garbage must still be freed by a full collection."""
    gc.enable()
    with collection_paused():
        kept = [_Node() for _ in range(1000)]
        cycle = _Node()
        cycle.other = _Node()
        cycle.other.other = cycle
        freed = weakref.ref(cycle)
        del cycle
    assert gc.get_count()[0] < 100  # the young generation starts (nearly) empty again
    oldest = {id(node) for node in gc.get_objects(generation=2)}
    assert all(id(node) in oldest for node in kept)
    assert freed() is not None  # not walked yet
    gc.collect()
    assert freed() is None


def test_objects_frozen_before_the_block_stay_frozen(collector_state: None) -> None:
    gc.enable()
    marker = _Node()  # tracked, and in no generation once frozen
    gc.freeze()
    try:
        with collection_paused():
            made = [_Node() for _ in range(10)]
        assert gc.get_freeze_count() > 0 and made
        assert all(node is not marker for node in gc.get_objects(generation=2))  # not unfrozen
    finally:
        gc.unfreeze()
