"""CPU time of each part of an anonymous request to the public page or ``/go/<id>``, in microseconds.

Run: .venv/bin/python bench/request_parts.py [page|go] [--page-cache on|off] [--backend sqlite|postgresql]
                                             [--requests 2000]

It builds the product in this process (UAT, the data of ``public_page.py``), wraps the parts of a request
(Flask's before/after/teardown hooks one by one, the session interface, the page's queries, the template,
the analytics recording and its queue append, the page cache's lookups) in a CPU clock
(``time.process_time``: a wait for the disk or the database is not counted), sends ``--requests``
requests through the whole WSGI stack (Flask's test client, one thread) and prints the CPU microseconds
per request of each part, largest first. Parts nest (``dispatch_request`` holds the view's parts), so they
do not add up. Unlike a profiler it slows nothing it does not wrap; to compare two trees, run it from each
(``git archive <commit> src bench | tar -x -C /tmp/before``, then ``/tmp/before/bench/request_parts.py``).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from bench.public_page import BROWSER, USERNAME, database, seed_product, write_config  # noqa: E402

from conexoos.framework.logs import log_access  # noqa: E402

spent: Counter[str] = Counter()


def timed(function: Callable[..., Any], label: str) -> Callable[..., Any]:
    """``function``, adding its CPU time to ``spent[label]``."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started

    return wrapper


def wrap(owner: Any, name: str) -> None:
    """Time ``owner.name`` (a module function or a method), when the tree has it."""
    if hasattr(owner, name):
        setattr(owner, name, timed(getattr(owner, name), f"{getattr(owner, '__name__', owner)}.{name}"))


def wrap_hooks(app: Any) -> None:
    """Time each before-request, after-request and teardown function of ``app`` on its own (a fast path
    that skips some hooks is told their timed stand-ins)."""
    for kind, hooks in (
        ("before", app.before_request_funcs.get(None, [])),
        ("after", app.after_request_funcs.get(None, [])),
        ("teardown", app.teardown_appcontext_funcs),
    ):
        for index, hook in enumerate(list(hooks)):
            if hook is log_access:  # the fast path knows it by identity: its line is timed by itself
                continue
            name = getattr(hook, "__qualname__", None) or getattr(
                getattr(hook, "func", None), "__qualname__", ""
            )
            hooks[index] = timed(hook, f"{kind}: {name}")
            stand_ins[hook] = hooks[index]
    fast_paths = getattr(app.wsgi_app, "app", None)
    for index, path in enumerate(getattr(fast_paths, "paths", [])):
        fast_paths.paths[index] = dataclasses.replace(
            path,
            skipped_hooks=_timed_skips(path.skipped_hooks),
            replayable_hooks=_timed_skips(path.replayable_hooks),
        )


stand_ins: dict[Any, Any] = {}


def _timed_skips(hooks: Callable[[], Any]) -> Callable[[], Any]:
    """The fast path's skipped or replayable hooks, as their timed stand-ins."""
    return lambda: {stand_ins.get(hook, hook) for hook in hooks()}


def main() -> None:
    """Build the app, wrap its parts, send the requests, print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=("page", "go"))
    parser.add_argument("--page-cache", choices=("on", "off"), default="on")
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, database(args.backend, Path(name)) as url:
        config = write_config(Path(name), url, page_cache=args.page_cache == "on")
        link_id = seed_product(config)
        import flask

        from conexoos.app.blueprints import public
        from conexoos.app.controllers import analytics, event_buffer, page_cache, profiles
        from conexoos.framework import create_app, fast_path, logs

        app = create_app(None, str(config))
        wrap(logs, "log_access_line")  # through log_access (Flask's path)
        wrap(fast_path, "log_access_line")  # for a kept answer
        for method in (
            "preprocess_request",
            "process_response",
            "do_teardown_appcontext",
            "dispatch_request",
        ):
            wrap(flask.Flask, method)
        for module, names in (
            (profiles, ("public_page", "live_link")),
            (public, ("render_template",)),
            (analytics, ("record_view", "record_click", "_is_owner", "_announce")),
            (event_buffer, ("enqueue", "enqueue_encoded")),
            (page_cache, ("_cached_page", "_decoded_page", "_fresh_link", "_keep_page", "_remember_link")),
        ):
            for function in names:
                wrap(module, function)
        wrap(type(app.session_interface), "open_session")
        wrap(type(app.session_interface), "save_session")
        wrap_hooks(app)
        client = app.test_client()
        path = f"/{USERNAME}" if args.kind == "page" else f"/go/{link_id}"
        for _ in range(100):  # warm up (and fill the cache)
            client.get(path, headers={"User-Agent": BROWSER})
        spent.clear()
        started = time.process_time()
        for _ in range(args.requests):
            client.get(path, headers={"User-Agent": BROWSER})
        total = time.process_time() - started
    print(
        f"{path}, page cache {args.page_cache}, {args.backend}: "
        f"{1e6 * total / args.requests:.0f} µs CPU a request"
    )
    for label, seconds in spent.most_common():
        print(f"  {1e6 * seconds / args.requests:7.0f} µs  {label}")


if __name__ == "__main__":
    main()
