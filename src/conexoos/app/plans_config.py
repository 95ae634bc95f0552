"""Plans from ``APP.PLANS``: the free plan ``gratis`` and paid plans with their Stripe price and limits."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from conexoos.app import currency_table
from conexoos.framework.config import check_value

log = logging.getLogger("conexoos.config")
FREE_PLAN = "gratis"
DEFAULT_PLANS: dict[str, dict[str, Any]] = {
    FREE_PLAN: {
        "NAME": "Gratis",
        "MAX_LINKS": 10,
        "MAX_PRODUCTS": 3,
        "HISTORY_DAYS": 90,
        "MAX_CAPTURE_ENTRIES": 100,
    },
    "pro": {
        "NAME": "Pro",
        "PRICE_ID": "",
        "PRICE": 500,
        "CURRENCY": "EUR",
        "INTERVAL": "month",
        "MAX_LINKS": 200,
        "MAX_PRODUCTS": 100,
        "HISTORY_DAYS": 730,
        "MAX_CAPTURE_ENTRIES": 10000,
        "REMOVE_BRANDING": True,
    },
}


@dataclass(frozen=True)
class Plan:
    """One plan; a limit of None means unlimited."""

    key: str
    name: str
    price_id: str
    price: int
    currency: str
    interval: str
    max_links: int | None
    max_products: int | None
    history_days: int | None
    remove_branding: bool = False
    """Whether the plan's public pages go without the "Made with" footer (``REMOVE_BRANDING``)."""
    max_capture_entries: int | None = None
    """Email sign-ups the owner's capture forms keep, all forms together (``MAX_CAPTURE_ENTRIES``)."""

    @property
    def is_free(self) -> bool:
        return self.key == FREE_PLAN

    def price_label(self) -> str:
        """The price for people, e.g. ``€5.00 / month``; ``Free`` for the free plan.

        A paid plan sold through a Stripe price but configured without ``PRICE`` is not free: Stripe
        shows its price at checkout.
        """
        if self.is_free:
            return "Free"
        if not self.price:
            return "Price shown at checkout" if self.price_id else "Price not set"
        amount = format_money(self.price, self.currency)
        return f"{amount} / {self.interval}" if self.interval else amount

    def to_json(self, available: bool) -> dict[str, Any]:
        """The plan as the subscriptions page and API show it."""
        return {
            "id": self.key,
            "name": self.name,
            "price": self.price_label(),
            "available": available,
            "limits": {
                "links": self.max_links,
                "products": self.max_products,
                "history_days": self.history_days,
                "capture_entries": self.max_capture_entries,
            },
        }


EXACT_LIMIT = 10**15
"""Below this many minor units, ``minor_units / 10 ** digits`` is a float whose shortest repr is the exact
decimal, which is what Babel formats: :func:`format_money` gives Babel's text without Babel up to here."""


@functools.lru_cache(maxsize=1024)
def format_money(minor_units: int, currency: str, locale: str = currency_table.LOCALE) -> str:
    """Format an amount in minor units (cents) of ``currency`` for display, as Babel's ``format_currency``
    does. In ``en_US`` the digits and symbol come from :mod:`conexoos.app.currency_table` (Babel's data is
    5 MiB a worker); in any other locale, or for a code not in that table, from Babel (cached: a public
    page shows the same prices to every visitor, and Babel's formatting is a tenth of a millisecond)."""
    if (
        locale != currency_table.LOCALE
        or currency not in currency_table.TENDER_PERIODS
        or (abs(minor_units) >= EXACT_LIMIT)
    ):
        from babel.numbers import format_currency, get_currency_precision

        return format_currency(minor_units / 10 ** get_currency_precision(currency), currency, locale=locale)
    digits = currency_table.DIGITS.get(currency, currency_table.DEFAULT_DIGITS)
    units, fraction = divmod(abs(minor_units), 10**digits)
    sign = "-" if minor_units < 0 else ""
    decimals = f".{fraction:0{digits}d}" if digits else ""
    return f"{sign}{currency_table.SYMBOLS.get(currency, currency)}{units:,}{decimals}"


def is_currency(code: str, today: date | None = None) -> bool:
    """Whether ``code`` is a currency some country uses ``today`` (not XXX, XAU, DEM or another code of
    ISO 4217's funds, metals, testing or withdrawn currencies), by CLDR's data as Babel has it."""
    day = (today or date.today()).timetuple()[:3]
    return any(
        (start is None or start <= day) and (end is None or day <= end)
        for start, end in currency_table.TENDER_PERIODS.get(code, ())
    )


def currency_code(value: str) -> str:
    """``value`` as an upper-case ISO 4217 code in use today; ValueError otherwise (for ``CURRENCY``)."""
    code = value.strip().upper()
    if not is_currency(code):
        raise ValueError(f"{value!r} is not a currency in use")
    return code


STRIPE_PRICE = re.compile(r"[A-Za-z0-9_]{1,255}")
"""A Stripe price id (``price_1Nv…``): letters, digits and underscores."""


def price_id(value: str) -> str:
    """``value`` stripped, if it is shaped like a Stripe price id; ValueError otherwise (``PRICE_ID``)."""
    stripped = value.strip()
    if stripped and not STRIPE_PRICE.fullmatch(stripped):
        raise ValueError(f"{value!r} is not a Stripe price id")
    return stripped


def plan_conflicts(plans: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What the plans cannot be together: the free plan sold through Stripe, two plans under one Stripe
    price (a payment for one would give the other), or two ids that differ only in case."""
    problems = []
    if plans.get(FREE_PLAN, {}).get("PRICE_ID"):
        problems.append(f"{FREE_PLAN} is free: remove its PRICE_ID (a payment would give the free plan)")
    by_price: dict[str, list[str]] = {}
    by_folded: dict[str, list[str]] = {}
    for key, spec in plans.items():
        if spec.get("PRICE_ID"):
            by_price.setdefault(spec["PRICE_ID"], []).append(key)
        by_folded.setdefault(key.casefold(), []).append(key)
    for price, keys in by_price.items():
        if len(keys) > 1:
            problems.append(
                f"{' and '.join(keys)} share PRICE_ID {price}: a payment for one would give the other; give "
                "each paid plan its own Stripe price"
            )
    for keys in by_folded.values():
        if len(keys) > 1:
            problems.append(f"{' and '.join(keys)} differ only in case: keep one of these plan ids")
    return problems


def plans_from_tree(tree: dict[str, dict[str, Any]]) -> dict[str, Plan]:
    """Typed plans from the validated ``APP.PLANS`` section."""
    return {
        key: Plan(
            key=key,
            name=spec["NAME"] or key.title(),
            price_id=spec["PRICE_ID"],
            price=spec["PRICE"],
            currency=spec["CURRENCY"],
            interval=spec["INTERVAL"],
            max_links=spec["MAX_LINKS"],
            max_products=spec["MAX_PRODUCTS"],
            history_days=spec["HISTORY_DAYS"],
            remove_branding=spec["REMOVE_BRANDING"],
            max_capture_entries=spec["MAX_CAPTURE_ENTRIES"],
        )
        for key, spec in tree.items()
    }


def parse_plans(raw: Any, problems: list[str], warnings: list[str] | None = None) -> dict[str, Plan]:
    """Validate a raw ``APP.PLANS`` value with the declared schema (as the framework does at start-up).

    Problems and warnings are appended to the lists given; without ``warnings`` they are logged.
    """
    from conexoos.app.server.config import APP  # the schema imports this module's currency check

    checked = check_value(raw, APP["PLANS"], "APP.PLANS")
    problems.extend(checked.problems)
    if warnings is None:
        for note in checked.warnings:
            log.warning("config: %s", note)
    else:
        warnings.extend(checked.warnings)
    return plans_from_tree(checked.value)
