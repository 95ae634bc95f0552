"""The product's APP section and SERVICES.stripe: declared in server/config.py, checked by `config check`
exactly as at start-up, and read by the product as typed objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from conexoos.app.plans_config import Plan
from conexoos.app.server.config import SCHEMA
from conexoos.app.settings import AnalyticsSettings, BillingSettings
from conexoos.framework import ConfigError, load_settings
from tests.conftest import AppFactory
from tests.framework.test_cli import conexoos


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={}, project_schema=SCHEMA)
    return caught.value.problems


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            "APP:\n  PLANS:\n    gratis: {}\n    pro: {MAX_LINKS: -5}\n",
            "APP.PLANS.pro.MAX_LINKS: -5 is not valid; expected an integer from 0, or null for unlimited",
            id="negative-limit",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    gratis: {HISTORY_DAYS: many}\n",
            "APP.PLANS.gratis.HISTORY_DAYS: 'many' is not valid; expected an integer from 0, or null for "
            "unlimited",
            id="limit-not-a-number",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    pro: {NAME: Pro}\n",
            "APP.PLANS: 'gratis' is required; add APP.PLANS.gratis",
            id="free-plan-missing",
        ),
        pytest.param(
            "APP:\n  PLANS: [gratis]\n",
            "APP.PLANS: ['gratis'] is not valid; expected a mapping of ids to their settings",
            id="plans-not-a-mapping",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    gratis: {}\n    yes: {NAME: Yes}\n",
            "APP.PLANS.True: YAML reads an unquoted on, yes or true as the boolean true; put the word in "
            "quotes if you meant it; an id is a text",
            id="plan-id-read-as-a-boolean",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    gratis: free\n",
            "APP.PLANS.gratis: 'free' is not valid; expected a mapping of keys to values",
            id="plan-not-a-mapping",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    gratis: {}\n    pro: {CURRENCY: XXX}\n",
            "APP.PLANS.pro.CURRENCY: 'XXX' is not valid; expected an ISO 4217 code such as EUR",
            id="not-a-currency-in-use",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    gratis: {}\n    pro: {PRICE: -1}\n",
            "APP.PLANS.pro.PRICE: -1 is not valid; expected an amount in minor units (cents) from 0",
            id="negative-price",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    gratis: {}\n    pro: {PRICE: 4.99}\n",
            "APP.PLANS.pro.PRICE: 4.99 is not valid; expected an amount in minor units (cents) from 0",
            id="price-in-units",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    gratis: {}\n"
            "    pro: {PRICE_ID: price_same}\n    biz: {PRICE_ID: price_same}\n",
            "APP.PLANS: pro and biz share PRICE_ID price_same: a payment for one would give the other; give "
            "each paid plan its own Stripe price",
            id="two-plans-one-price",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    gratis: {PRICE_ID: price_free}\n",
            "APP.PLANS: gratis is free: remove its PRICE_ID (a payment would give the free plan)",
            id="free-plan-with-a-price",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    gratis: {}\n    pro: {PRICE_ID: price pro}\n",
            "APP.PLANS.pro.PRICE_ID: 'price pro' is not valid; expected a Stripe price id (letters, digits "
            "and underscores, such as price_1NvX2s)",
            id="price-id-with-a-space",
        ),
        pytest.param(
            "APP:\n  PLANS:\n    gratis: {}\n    Pro: {}\n    pro: {}\n",
            "APP.PLANS: Pro and pro differ only in case: keep one of these plan ids",
            id="ids-differing-in-case",
        ),
        pytest.param(
            "APP:\n  BILLING: {PAST_DUE_GRACE_DAYS: -1}\n",
            "APP.BILLING.PAST_DUE_GRACE_DAYS: -1 is not valid; expected an integer from 0",
            id="grace",
        ),
        pytest.param(
            "APP:\n  ANALYTICS: {RETENTION_DAYS: 0}\n",
            "APP.ANALYTICS.RETENTION_DAYS: 0 is not valid; expected an integer from 1",
            id="retention",
        ),
        pytest.param(
            "APP:\n  ANALYTICS: {COUNTRY_HEADER: [CF-IPCountry]}\n",
            "APP.ANALYTICS.COUNTRY_HEADER: ['CF-IPCountry'] is not valid; expected a string",
            id="country-header",
        ),
        pytest.param(
            "APP:\n  ANALYTICS: 90\n",
            "APP.ANALYTICS: 90 is not valid; expected a mapping of keys to values",
            id="section-not-a-mapping",
        ),
        pytest.param(  # its forms send csrf_token: renamed, nobody could log in (config check said OK)
            "FLASK:\n  CONFIG: {WTF_CSRF_FIELD_NAME: authenticity_token}\n",
            "FLASK.CONFIG.WTF_CSRF_FIELD_NAME: 'authenticity_token' is not valid; expected one of csrf_token",
            id="csrf-field-renamed",
        ),
        pytest.param(  # its scripts send X-CSRFToken
            "FLASK:\n  CONFIG: {WTF_CSRF_HEADERS: [X-My-Token]}\n",
            "FLASK.CONFIG.WTF_CSRF_HEADERS: ['X-My-Token'] is not valid; expected a list of header names "
            "holding X-CSRFToken (the product's scripts send it)",
            id="csrf-headers-without-the-scripts-one",
        ),
        pytest.param(
            "SERVICES:\n  stripe: {SECRET_KEY: [sk_live_abc]}\n",
            "SERVICES.stripe.SECRET_KEY: *** is not valid; expected a string",
            id="stripe-secret-redacted",
        ),
    ],
)
def test_each_mistake_in_the_product_section_is_one_line(tmp_path: Path, text: str, problem: str) -> None:
    assert problems_of(tmp_path, text) == [problem]


def test_config_check_refuses_what_the_app_refuses_with_the_same_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        f"SERVER_ENV:\n  INSTANCE_PATH: {tmp_path / 'instance'}\n"
        "APP:\n  PLANS:\n    gratis: {MAX_LINKS: 10}\n    pro: {MAX_LINKS: -5}\n",
        encoding="utf-8",
    )
    line = (
        "config error: APP.PLANS.pro.MAX_LINKS: -5 is not valid; expected an integer from 0, or null for "
        "unlimited"
    )
    for words in (
        ("config", "check"),
        ("routes",),
        ("user", "create", "--email", "a@example.org", "--username", "alice", "--password", "x" * 12),
    ):
        result = conexoos(*words, "--config", str(config), cwd=tmp_path)
        assert (result.returncode, result.stderr.strip()) == (2, line), words
        assert "Traceback" not in result.stderr


def test_config_check_warns_about_plan_keys_in_another_case(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("APP:\n  PLANS:\n    gratis: {max_links: 3}\n", encoding="utf-8")
    result = conexoos("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "warning: APP.PLANS.gratis.max_links is read as APP.PLANS.gratis.MAX_LINKS; write it MAX_LINKS"
        in result.stderr
    )


def test_the_product_reads_its_section_as_typed_objects(make_app: AppFactory) -> None:
    app = make_app(
        overrides={
            "APP": {
                "PLANS": {
                    "gratis": {"MAX_LINKS": 4},
                    "team": {"PRICE": 900, "currency": "usd", "MAX_LINKS": None},
                },
                "BILLING": {"PAST_DUE_GRACE_DAYS": 2},
                "ANALYTICS": {"COUNTRY_HEADER": "CF-IPCountry"},
            }
        }
    )
    assert app.config["CONEXOOS_BILLING"] == BillingSettings(past_due_grace_days=2)
    assert app.config["CONEXOOS_ANALYTICS"] == AnalyticsSettings(
        retention_days=90, country_header="CF-IPCountry"
    )
    plans = app.config["CONEXOOS_PLANS"]
    assert plans["gratis"] == Plan("gratis", "Gratis", "", 0, "EUR", "", 4, None, None)
    assert plans["team"] == Plan("team", "Team", "", 900, "USD", "", None, None, None)
    assert plans["team"].price_label() == "$9.00"


def test_without_plans_the_built_in_ones_apply(make_app: AppFactory) -> None:
    plans = make_app().config["CONEXOOS_PLANS"]
    assert sorted(plans) == ["gratis", "pro"]
    assert (plans["gratis"].max_links, plans["pro"].max_links, plans["pro"].price_label()) == (
        10,
        200,
        "€5.00 / month",
    )


def test_config_check_refuses_a_csrf_field_the_products_forms_do_not_send(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("FLASK:\n  CONFIG: {WTF_CSRF_FIELD_NAME: authenticity_token}\n", encoding="utf-8")
    result = conexoos("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "FLASK.CONFIG.WTF_CSRF_FIELD_NAME: 'authenticity_token' is not valid" in result.stderr


def test_the_headers_the_products_scripts_send_may_be_written_in_any_case(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("FLASK:\n  CONFIG: {WTF_CSRF_HEADERS: [x-csrftoken, X-Other]}\n", encoding="utf-8")
    settings = load_settings(path, environ={}, project_schema=SCHEMA)
    assert settings.tree["FLASK"]["CONFIG"]["WTF_CSRF_HEADERS"] == ["x-csrftoken", "X-Other"]
