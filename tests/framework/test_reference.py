"""The README's configuration references are the ones the schemas generate: the framework's and the
product's own keys (declared in its server/config.py)."""

from __future__ import annotations

from pathlib import Path

from conexoos.app.server.config import SCHEMA
from conexoos.framework import schema
from conexoos.framework.reference import config_reference, project_reference
from conexoos.framework.schema import Entries, Key

README = Path(__file__).resolve().parents[2] / "README.md"
STALE = "README is stale: run `.venv/bin/python scripts/update_readme_reference.py`"


def test_readme_holds_the_generated_reference() -> None:
    assert config_reference() in README.read_text(encoding="utf-8"), STALE


def test_readme_holds_the_product_reference_generated_from_its_schema() -> None:
    text = README.read_text(encoding="utf-8")
    assert project_reference(SCHEMA) in text, STALE
    start = text.index("<!-- product-reference:start")
    block = text[start : text.index("<!-- product-reference:end -->")]
    declared = ("| `APP.", "| `SERVICES.stripe.", "| `FLASK.CONFIG.")  # every row a key the product declares
    assert sum(block.count(row) for row in declared) == block.count("\n| `")
    assert '| `FLASK.CONFIG.WTF_CSRF_FIELD_NAME` | one of csrf_token | `"csrf_token"` |' in block


def test_reference_lists_every_key_with_its_default() -> None:
    reference = config_reference()
    for name in schema.SERVER_ENV:
        assert f"`SERVER_ENV.{name}" in reference
    assert "| `SERVER_ENV.BIND.PORT` | int | `4200` |" in reference
    assert "| `DATABASE.<name>.readonly` | bool | `false` |" in reference


def test_product_reference_shows_entries_nullable_limits_and_secrets() -> None:
    reference = project_reference(SCHEMA)
    assert '| `APP.PLANS.<id>` | mapping of ids; required: gratis | `["gratis", "pro"]` |' in reference
    assert "| `APP.PLANS.<id>.MAX_LINKS` | int or null | `null` |" in reference
    assert "| `APP.BILLING.PAST_DUE_GRACE_DAYS` | int | `7` |" in reference
    assert '| `SERVICES.stripe.SECRET_KEY` | str | `""` |' in reference


def test_a_project_section_renders_every_declared_key() -> None:
    declared: schema.Schema = {
        "APP": {
            "SHOPS": Entries({"URL": Key("str", "", "Shop address.")}, "Shops.", label="shop"),
            "LIMITS": {"DAILY": Key("int", 5, "Per day.", minimum=1)},
        },
        "SERVICES": {"mailer": {"TOKEN": Key("str", "t0", "Token.", secret=True)}},
    }
    reference = project_reference(declared)
    assert '| `APP.SHOPS.<shop>.URL` | str | `""` | Shop address. |' in reference
    assert "| `APP.LIMITS.DAILY` | int | `5` | Per day. |" in reference
    assert "| `SERVICES.mailer.TOKEN` | str | `(secret)` | Token. |" in reference
