"""Plans from ``APP.PLANS``: the free plan ``gratis`` and paid plans with their Stripe price and limits."""

from __future__ import annotations

import difflib
import functools
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision, get_territory_currencies

log = logging.getLogger("conexoos.config")
FREE_PLAN = "gratis"
DEFAULT_PLANS: dict[str, dict[str, Any]] = {
    FREE_PLAN: {"NAME": "Gratis", "MAX_LINKS": 10, "MAX_PRODUCTS": 3, "HISTORY_DAYS": 90},
    "pro": {
        "NAME": "Pro",
        "PRICE_ID": "",
        "PRICE": 500,
        "CURRENCY": "EUR",
        "INTERVAL": "month",
        "MAX_LINKS": 200,
        "MAX_PRODUCTS": 100,
        "HISTORY_DAYS": 730,
    },
}
LIMIT_KEYS = ("MAX_LINKS", "MAX_PRODUCTS", "HISTORY_DAYS")
KNOWN_KEYS = ("NAME", "PRICE_ID", "PRICE", "CURRENCY", "INTERVAL", *LIMIT_KEYS)


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

    @property
    def is_free(self) -> bool:
        return self.key == FREE_PLAN

    def limit(self, kind: str) -> int | None:
        """The limit for ``links`` or ``products``."""
        return self.max_links if kind == "links" else self.max_products

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
            },
        }


def format_money(minor_units: int, currency: str, locale: str = "en_US") -> str:
    """Format an amount in minor units (cents) of ``currency`` for display."""
    return format_currency(minor_units / 10 ** get_currency_precision(currency), currency, locale=locale)


def is_currency(code: str) -> bool:
    """Whether ``code`` is a currency some country uses today (not XXX, XAU, DEM or another code of
    ISO 4217's funds, metals, testing or withdrawn currencies)."""
    return code in _tender_currencies()


@functools.cache
def _tender_currencies() -> frozenset[str]:
    today = date.today()
    territories = get_global("territory_currencies")
    return frozenset(
        code for territory in territories for code in get_territory_currencies(territory, today, tender=True)
    )


def parse_plans(raw: Any, problems: list[str], warnings: list[str] | None = None) -> dict[str, Plan]:
    """Validate ``APP.PLANS`` (or use the defaults); every problem is one line naming the key.

    Unknown keys are warnings, as everywhere in the configuration: appended to ``warnings`` when it is
    given, else logged on ``conexoos.config``.
    """
    notes: list[str] = [] if warnings is None else warnings
    if raw in (None, {}):
        raw = DEFAULT_PLANS
    if not isinstance(raw, dict):
        problems.append(f"APP.PLANS: {raw!r} is not valid; expected a mapping of plan ids to their settings")
        raw = DEFAULT_PLANS
    if FREE_PLAN not in raw:
        problems.append(f"APP.PLANS: the free plan {FREE_PLAN!r} is missing; add APP.PLANS.{FREE_PLAN}")
    plans = {}
    for key, spec in raw.items():
        plan = _plan(str(key), spec, problems, notes)
        if plan is not None:
            plans[plan.key] = plan
    if warnings is None:
        for note in notes:
            log.warning("config: %s", note)
    return plans


def _plan(key: str, spec: Any, problems: list[str], warnings: list[str]) -> Plan | None:
    path = f"APP.PLANS.{key}"
    if not isinstance(spec, dict):
        problems.append(f"{path}: {spec!r} is not valid; expected a mapping")
        return None
    spec = _known_keys(spec, path, problems, warnings)
    limits = {name: _limit(spec.get(name), f"{path}.{name}", problems) for name in LIMIT_KEYS}
    currency = str(spec.get("CURRENCY") or "EUR").upper()
    if not is_currency(currency):
        problems.append(f"{path}.CURRENCY: {currency!r} is not valid; expected an ISO 4217 code such as EUR")
    price = spec.get("PRICE") or 0
    if isinstance(price, bool) or not isinstance(price, int) or price < 0:
        problems.append(f"{path}.PRICE: {price!r} is not valid; expected an amount in minor units (cents)")
        price = 0
    return Plan(
        key=key,
        name=str(spec.get("NAME") or key.title()),
        price_id=str(spec.get("PRICE_ID") or ""),
        price=price,
        currency=currency,
        interval=str(spec.get("INTERVAL") or ""),
        max_links=limits["MAX_LINKS"],
        max_products=limits["MAX_PRODUCTS"],
        history_days=limits["HISTORY_DAYS"],
    )


def _known_keys(spec: dict[Any, Any], path: str, problems: list[str], warnings: list[str]) -> dict[str, Any]:
    """The plan's settings by their canonical names: a known key in another case (``max_links``) is read
    with a warning; an unknown key is ignored with a warning naming the closest known key."""
    known: dict[str, Any] = {}
    for name, value in spec.items():
        canonical = str(name).upper()
        if canonical not in KNOWN_KEYS:
            close = difflib.get_close_matches(canonical, KNOWN_KEYS, n=1, cutoff=0.6)
            hint = f"; did you mean {path}.{close[0]}?" if close else f"; known keys: {', '.join(KNOWN_KEYS)}"
            warnings.append(f"unknown key {path}.{name} is ignored{hint}")
            continue
        if canonical in known:
            problems.append(f"{path}.{name}: {canonical} is set twice; keep only {path}.{canonical}")
            continue
        if name != canonical:
            warnings.append(f"{path}.{name} is read as {path}.{canonical}; write it {canonical}")
        known[canonical] = value
    return known


def _limit(value: Any, path: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(f"{path}: {value!r} is not valid; expected a whole number, or null for unlimited")
        return None
    return value
