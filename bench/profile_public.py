"""Where a request of the public page and of ``/go/<id>`` spends its time, by pyinstrument.

Run: .venv/bin/python bench/profile_public.py [--backend sqlite|postgresql] [--requests 2000] [--tree]
                                             [--no-page-cache]

It builds the product in this process (UAT, the given database), gives one user 8 links and 2 products,
warms up, then profiles ``--requests`` anonymous requests of each path through the whole WSGI stack
(Flask's test client) and prints, per path, the share of time in each part of the request (sessions,
login, CSRF, rate limits, logging, the analytics write, template rendering, ...), or pyinstrument's whole
call tree with ``--tree``. The page cache is on (the default) unless ``--no-page-cache``: then every view
renders the page and every click queries its link. pyinstrument is not a dependency:
``.venv/bin/pip install pyinstrument``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from bench.public_page import BROWSER, USERNAME, database, seed_product, write_config  # noqa: E402

PARTS = {
    "analytics: recording the view or click, in all": ("analytics.py:_record",),
    "  of which the write buffer's append (and fsync)": ("event_buffer.py:enqueue_encoded",),
    "page cache lookups": ("page_cache.py:_cached_page", "page_cache.py:_fresh_link"),
    "user-agent classification": ("useragent.py",),
    "page queries": ("profiles.py:public_page", "profiles.py:live_link"),
    "template rendering": ("render_template",),
    "session open/save": ("sessions.py:open_session", "sessions.py:save_session"),
    "login (current_user)": ("flask_login",),
    "CSRF": ("flask_wtf",),
    "rate limits": ("flask_limiter",),
    "access log": ("logs.py:log_access", "logs.py:_start_timer"),
    "security headers": ("middleware.py:_security_headers",),
    "Socket.IO announce": ("analytics.py:_announce",),
}


def main() -> None:
    """Profile both paths and print the shares."""
    from pyinstrument import Profiler

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--tree", action="store_true", help="print pyinstrument's call tree")
    parser.add_argument("--no-page-cache", action="store_true", help="render every view, query every click")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, database(args.backend, Path(name)) as url:
        config = write_config(Path(name), url, page_cache=not args.no_page_cache)
        link_id = seed_product(config)
        from conexoos.framework import create_app

        app = create_app(None, str(config))
        client = app.test_client()
        for path in (f"/{USERNAME}", f"/go/{link_id}"):
            for _ in range(50):
                client.get(path, headers={"User-Agent": BROWSER})
            profiler = Profiler(interval=0.0002)
            started = time.perf_counter()
            profiler.start()
            for _ in range(args.requests):
                client.get(path, headers={"User-Agent": BROWSER})
            profiler.stop()
            elapsed = time.perf_counter() - started
            print(
                f"\n{path}: {args.requests / elapsed:.0f} req/s in one thread, "
                f"{1000 * elapsed / args.requests:.2f} ms each"
            )
            if args.tree:
                print(profiler.output_text(unicode=True, color=False, show_all=False))
            else:
                _print_shares(profiler)


def _print_shares(profiler: object) -> None:
    """Each part's share of the profiled time: frames whose identifier matches one of its patterns."""
    session = profiler.last_session  # type: ignore[attr-defined]
    root = session.root_frame()
    total = root.time
    for part, patterns in PARTS.items():
        spent = _time_in(root, patterns)
        print(f"  {part:<50}{100 * spent / total:5.1f} %")


def _time_in(frame: object, patterns: tuple[str, ...]) -> float:
    """Time of the outermost frames under ``frame`` whose file:function contains a pattern."""
    identifier = f"{Path(frame.file_path or '').name}:{frame.function}"  # type: ignore[attr-defined]
    full = f"{frame.file_path}:{frame.function}"  # type: ignore[attr-defined]
    if any(pattern in identifier or pattern in full for pattern in patterns):
        return frame.time  # type: ignore[attr-defined, no-any-return]
    return sum(_time_in(child, patterns) for child in frame.children)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
