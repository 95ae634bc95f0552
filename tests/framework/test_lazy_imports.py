"""Libraries only some requests need are imported at their first use, not with the app (framework/lazy.py).

The app is built in a fresh interpreter (this test process has imported everything already), serves the
public page and a redirect, and must not have imported them; then one use of each imports it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conexoos.framework.lazy import lazy_module

REPO = Path(__file__).resolve().parents[2]
FIRST_USE_ONLY = ("stripe", "PIL", "pypdf", "webauthn", "segno", "markdown_it", "nh3")
SCRIPT = """
import sys
from conexoos.framework import create_app, db
from conexoos.framework.database import create_schema
from conexoos.app.controllers.accounts import create_account
from conexoos.app.models.persistent import UserLink

app = create_app(None, sys.argv[1])
create_schema(app, app.extensions["conexoos"].settings)
with app.app_context():
    user = create_account("maya@example.com", "maya", "quiet measured passphrase")
    link = UserLink(owner_id=user.id, title="Shop", url="https://example.com/shop", order_index=0)
    db.session.add(link)
    db.session.commit()
    link_id = link.id
client = app.test_client()
statuses = [client.get("/maya").status_code, client.get(f"/go/{link_id}").status_code]
print(statuses, sorted(name for name in sys.argv[2:] if name in sys.modules))
"""


def test_the_public_page_and_a_redirect_import_none_of_them(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "SERVER_ENV": {"APP_KEY": "lazy-imports-" + "k" * 40, "INSTANCE_PATH": str(tmp_path / "i")},
                "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{tmp_path / 'app.db'}"}},
            }
        )
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(config), *FIRST_USE_ONLY],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[200, 302] []"


def test_a_lazy_module_is_imported_at_its_first_attribute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conexoos_lazy_probe.py").write_text("class ProbeError(Exception):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    probe = lazy_module("conexoos_lazy_probe")
    assert "conexoos_lazy_probe" not in sys.modules
    try:
        raise probe.ProbeError("raised")
    except probe.ProbeError as error:  # the except clause reads the attribute too
        assert str(error) == "raised"
    assert "conexoos_lazy_probe" in sys.modules
    assert probe.ProbeError is sys.modules["conexoos_lazy_probe"].ProbeError
    monkeypatch.delitem(sys.modules, "conexoos_lazy_probe")
