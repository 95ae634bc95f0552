"""``conexoos run`` goes on after a broken edit: the reloader's child shows the error, waits for the next
change and starts again (it used to end, and the whole development server with it)."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conexoos.framework.scaffold import create_project
from tests.support.green_server import new_port

from .test_cli import server


def hello(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/hello", timeout=2) as response:
        return str(json.loads(response.read())["message"])


def wait_for(check: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.3)


def answers(port: int, text: str) -> bool:
    """Whether the site answers with ``text``; not yet while it restarts: refused, or an answer cut off
    (the reloader ends its child even in the middle of one: IncompleteRead, as CI once met)."""
    try:
        return text in hello(port)
    except (OSError, http.client.HTTPException):
        return False


def test_a_syntax_error_saved_while_running_waits_for_the_fix(tmp_path: Path) -> None:
    project = tmp_path / "demo"
    create_project("demo", project)
    controller = project / "controllers" / "api.py"
    port = new_port()
    args = ["run", "--project", str(project), "--port", str(port), "--reload"]
    with server(args, tmp_path, f"http://127.0.0.1:{port}/api/hello") as log:
        original = controller.read_text()
        controller.write_text(original + "\ndef broken(:\n")
        wait_for(lambda: "it restarts when a file changes" in log.read_text())
        assert "SyntaxError" in log.read_text()
        # Meanwhile a request is answered at once (it waited, unanswered, until the next edit).
        with pytest.raises(urllib.error.HTTPError) as unavailable:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/hello", timeout=3)
        said = unavailable.value.read()
        assert unavailable.value.code == 503 and b"could not start" in said and b"SyntaxError" not in said
        controller.write_text(
            original.replace('f"{greeting} from {name}!"', 'f"{greeting} again from {name}!"')
        )
        wait_for(lambda: answers(port, "again from"))


def test_an_edit_of_the_configuration_reloads_the_site(tmp_path: Path) -> None:
    """Only Python files were watched: a changed config.yml took effect at the next edit of one."""
    project = tmp_path / "demo"
    create_project("demo", project)
    config = project / "config.yml"
    port = new_port()
    args = ["run", "--project", str(project), "--port", str(port), "--reload"]
    with server(args, tmp_path, f"http://127.0.0.1:{port}/api/hello"):
        assert answers(port, "Hello from")
        time.sleep(1.1)  # the reloader compares modification times
        config.write_text(config.read_text().replace("GREETING: Hello", "GREETING: Bonjour"))
        wait_for(lambda: answers(port, "Bonjour from"))


def test_the_development_server_warning_is_printed_once(tmp_path: Path) -> None:
    """With the reloader and no terminal on stdin (a service, a pipe), Flask-SocketIO's "Werkzeug appears
    to be used in a production deployment" came from the watcher and again from its child, after
    Werkzeug's own "WARNING: This is a development server"."""
    project = tmp_path / "demo"
    create_project("demo", project)
    port = new_port()
    args = ["run", "--project", str(project), "--port", str(port), "--reload"]
    with server(args, tmp_path, f"http://127.0.0.1:{port}/api/hello", stdin=subprocess.DEVNULL) as log:
        assert answers(port, "Hello from")  # the reloader's child serves: both processes have started
        printed = log.read_text()
    assert "Restarting with" in printed, printed
    assert printed.count("This is a development server") == 1, printed
    assert "production deployment" not in printed.replace("Do not use it in a production deployment", "")
    # The debugger's console is off: a PIN that unlocks nothing is not printed to be copied around.
    assert "PIN" not in printed, printed
