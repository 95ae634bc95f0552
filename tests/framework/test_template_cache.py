"""Compiled templates kept in the instance folder (``framework/template_cache.py``): a second app renders
from them, an edited template is compiled again, and a folder that cannot be written costs no page."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from jinja2 import DictLoader

from conexoos.framework.template_cache import FOLDER, TemplateBytecodeCache, install_template_cache


def app_with(templates: dict[str, str], instance: Path) -> Flask:
    app = Flask("template_cache_test", instance_path=str(instance))
    install_template_cache(app, instance)
    app.jinja_loader = DictLoader(templates)
    return app


def render(app: Flask, name: str) -> str:
    with app.app_context():
        return app.jinja_env.get_template(name).render(who="Maya")


def test_a_new_app_renders_from_the_kept_compiled_template_and_an_edit_is_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert render(app_with({"page.html": "Hello {{ who }}"}, tmp_path), "page.html") == "Hello Maya"
    kept = list((tmp_path / FOLDER).iterdir())
    assert len(kept) == 1 and kept[0].stat().st_size > 0

    compiled: list[str] = []
    original = Flask.jinja_environment.compile

    def counting(self: object, source: object, *args: object, **kwargs: object) -> object:
        compiled.append(str(source))
        return original(self, source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Flask.jinja_environment, "compile", counting)
    assert render(app_with({"page.html": "Hello {{ who }}"}, tmp_path), "page.html") == "Hello Maya"
    assert compiled == []  # loaded from the kept bytecode
    edited = app_with({"page.html": "Bye {{ who }}"}, tmp_path)
    assert render(edited, "page.html") == "Bye Maya" and compiled == ["Bye {{ who }}"]


def test_a_write_that_fails_is_logged_and_the_template_rendered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on a full disk or a read-only folder: the write fails with OSError."""

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    app = app_with({"page.html": "Hello {{ who }}"}, tmp_path)
    monkeypatch.setattr("tempfile.NamedTemporaryFile", full_disk)
    with caplog.at_level(logging.WARNING, logger="conexoos.templates"):
        assert render(app, "page.html") == "Hello Maya"
        with app.app_context():
            assert render_template_string("{{ 1 + 1 }}") == "2"
    assert "No space left on device" in caplog.text
    assert isinstance(app.jinja_env.bytecode_cache, TemplateBytecodeCache)


@pytest.mark.parametrize("in_the_way", ["file", "broken link"])
def test_something_in_the_folders_place_leaves_the_app_without_the_cache(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, in_the_way: str
) -> None:
    """A file or a broken link where the folder should be: the app starts and renders, and the log says
    why nothing is kept."""
    if in_the_way == "file":
        (tmp_path / FOLDER).write_text("not a folder", encoding="utf-8")
    else:
        (tmp_path / FOLDER).symlink_to(tmp_path / "gone" / "nowhere")
    with caplog.at_level(logging.WARNING, logger="conexoos.templates"):
        app = app_with({"page.html": "Hello {{ who }}"}, tmp_path)
    assert render(app, "page.html") == "Hello Maya"
    assert app.jinja_env.bytecode_cache is None and "cannot be a folder" in caplog.text
