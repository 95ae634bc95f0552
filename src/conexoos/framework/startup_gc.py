"""Python's cyclic garbage collector at start-up: importing the framework and a project makes hundreds of
thousands of objects (modules, classes, functions, mapped tables) that all stay, and each collection the
allocations trigger meanwhile walks every one of them again to free nothing.

- :func:`collection_paused`: no collection while the framework is imported and the app made (reference
  counting frees what is not in a cycle as before; the collector frees the rest once running again).
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
    caller that disabled it itself keeps it disabled)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def keep_startup_objects() -> None:
    """Leave the objects made so far out of every later collection (see the module): for the process
    that serves the app it has just made (``wsgi.py``, ``conexoos serve``'s workers). Called inside
    :func:`collection_paused`, before the collector runs again, the objects are never walked even once:
    re-enabled first, its next collection would walk every one of them (they are all still young)."""
    gc.freeze()


def made_to_serve(make: Callable[[], Made]) -> Made:
    """``make()`` (the app a server's worker is about to serve) with the collector paused, and what start-up
    made frozen before it runs again (:func:`keep_startup_objects`)."""
    with collection_paused():
        made = make()
        keep_startup_objects()
    return made
