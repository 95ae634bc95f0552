"""The README's configuration reference is the one the schema generates."""

from __future__ import annotations

from pathlib import Path

from conexoos.framework import schema
from conexoos.framework.reference import config_reference

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_holds_the_generated_reference() -> None:
    text = README.read_text(encoding="utf-8")
    assert config_reference() in text, (
        "README is stale: run `.venv/bin/python scripts/update_readme_reference.py`"
    )


def test_reference_lists_every_key_with_its_default() -> None:
    reference = config_reference()
    for name in schema.SERVER_ENV:
        assert f"`SERVER_ENV.{name}" in reference
    assert "| `SERVER_ENV.BIND.PORT` | int | `4200` |" in reference
    assert "| `DATABASE.<name>.readonly` | bool | `false` |" in reference
