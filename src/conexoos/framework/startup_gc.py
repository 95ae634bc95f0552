"""Python's cyclic garbage collector at start-up: importing the framework and a project makes hundreds of
thousands of objects (modules, classes, functions, mapped tables) that all stay, and each collection the
allocations trigger meanwhile walks every one of them again to free nothing.

- :func:`collection_paused`: no collection while the framework is imported and the app made (reference
  counting frees what is not in a cycle as before; the collector frees the rest once running again).
  What the block made is then moved to the oldest generation without being walked: enabled again with
  all of it young, the collector's next run (the first allocation after the block) would walk every one
  of those objects to free almost nothing (about 50 ms after the framework's import).
- :func:`keep_startup_objects`: a server's worker, once its app is made, moves every object there is to
  the collector's permanent generation (``gc.freeze``): the first full collection (tens of milliseconds,
  during the first requests) and every later one no longer walk them. They live as long as the worker
  anyway. Only the server entry points call it: an app made in a test or a command is collected as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

Made = TypeVar("Made")


@contextmanager
def collection_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block, and enable it again after if it was enabled (a
    caller that disabled it itself keeps it disabled), with what the block made aged (see the module)."""
    with _paused(then=_age_young_objects):
        yield


def keep_startup_objects() -> None:
    """Leave the objects made so far out of every later collection (see the module): for the process
    that serves the app it has just made (``wsgi.py``, ``conexoos serve``'s workers). Called with the
    collector paused, before it runs again, the objects are never walked even once: re-enabled first, its
    next collection would walk every one of them (they are all still young)."""
    gc.freeze()


def made_to_serve(make: Callable[[], Made]) -> Made:
    """``make()`` (the app a server's worker is about to serve) with the collector paused, and what start-up
    made frozen before it runs again (:func:`keep_startup_objects`)."""
    with _paused(then=keep_startup_objects):
        return make()


@contextmanager
def _paused(then: Callable[[], None]) -> Iterator[None]:
    """The collector disabled inside the block; ``then()`` after it (even on an error) if it was enabled
    before, and enabled again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            then()
            gc.enable()


def _age_young_objects() -> None:
    """Move every object the collector tracks to its oldest generation, where only a full collection walks
    it (they are freed there as usual if garbage), and reset the young generation's count. ``gc`` has no
    call for it, but freezing moves every generation to the permanent one in one step, and unfreezing
    moves that to the oldest. Not when something froze objects before us: unfreezing would release them
    (``get_freeze_count`` walks the frozen objects: cheap only while there are none)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
