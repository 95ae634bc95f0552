"""The currency table (``conexoos.app.currency_table``) says what the installed Babel says: prices are
formatted and ``CURRENCY`` codes checked without loading Babel's data, with the same results."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision, get_territory_currencies

from conexoos.app import currency_table
from conexoos.app.plans_config import EXACT_LIMIT, currency_code, format_money, is_currency

REPO = Path(__file__).resolve().parents[2]
AMOUNTS = (0, 1, 5, 99, 100, 1505, 99_999, 123_456_789, -1, -1505, EXACT_LIMIT - 1, -(EXACT_LIMIT - 1))
DAYS = (
    date(1990, 6, 1),
    date(2002, 1, 15),
    date(2025, 6, 30),
    date(2025, 7, 1),
    date.today(),
    date(2040, 1, 1),
)


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_currency_table", REPO / "scripts/make_currency_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_is_the_installed_babels_data() -> None:
    script = _script()
    regenerate = "Babel's data changed: run scripts/make_currency_table.py"
    assert script.tender_periods() == currency_table.TENDER_PERIODS, regenerate
    codes = list(currency_table.TENDER_PERIODS)
    assert script.minor_digits(codes) == currency_table.DIGITS, regenerate
    assert script.symbols(codes) == currency_table.SYMBOLS, regenerate
    assert get_global("currency_fractions")["DEFAULT"][0] == currency_table.DEFAULT_DIGITS


@pytest.mark.parametrize("currency", sorted(currency_table.TENDER_PERIODS))
def test_a_price_is_formatted_as_babel_formats_it(currency: str) -> None:
    digits = get_currency_precision(currency)
    for amount in AMOUNTS:
        expected = format_currency(amount / 10**digits, currency, locale="en_US")
        assert format_money.__wrapped__(amount, currency) == expected, (amount, currency)


def test_what_the_table_does_not_cover_is_formatted_by_babel() -> None:
    assert format_money.__wrapped__(1505, "EUR", "de_DE") == format_currency(15.05, "EUR", locale="de_DE")
    assert format_money.__wrapped__(1505, "eur") == format_currency(15.05, "eur", locale="en_US")
    huge = EXACT_LIMIT * 7 + 3
    assert format_money.__wrapped__(huge, "EUR") == format_currency(huge / 100, "EUR", locale="en_US")


def test_a_currency_is_in_use_on_the_days_babel_says() -> None:
    codes = {code for entries in get_global("territory_currencies").values() for code, *_ in entries}
    for day in DAYS:
        in_use = {
            code
            for territory in get_global("territory_currencies")
            for code in get_territory_currencies(territory, day, tender=True)
        }
        assert {code for code in codes | {"XXX", "XAU", "eur", ""} if is_currency(code, day)} == in_use, day


def test_the_currency_setting_takes_codes_in_use_only() -> None:
    assert currency_code(" eur ") == "EUR"
    assert (
        is_currency("EUR")
        and is_currency("ANG", date(2025, 6, 30))
        and not is_currency("ANG", date(2025, 7, 1))
    )
    for withdrawn in ("DEM", "XXX", "XAU", "HRK"):
        with pytest.raises(ValueError, match="is not a currency in use"):
            currency_code(withdrawn)
