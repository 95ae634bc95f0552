"""Make ``src/conexoos/app/currency_table.py``: the currencies Babel (CLDR) knows as legal tender, with the
dates they are tender between, their minor-unit digits and their ``en`` symbols.

Reading these from Babel costs a worker its whole global data (a 470 KB pickle, 2.5 MiB in memory) and the
``en`` locale (another 2.8 MiB) for a check at start-up (``CURRENCY``) and the prices on a public page:
the table is what :mod:`conexoos.app.plans_config` reads instead, and a test compares it with the
installed Babel (if a Babel upgrade changes CLDR's data, that test fails and names this script).

    python scripts/make_currency_table.py   # then formats it with ruff
"""

from __future__ import annotations

import pprint
import subprocess
import sys
from pathlib import Path

import babel
from babel.core import Locale, get_global

OUTPUT = Path(__file__).resolve().parents[1] / "src/conexoos/app/currency_table.py"
LOCALE = "en_US"

Day = tuple[int, int, int] | None


def tender_periods() -> dict[str, tuple[tuple[Day, Day], ...]]:
    """For each currency some territory has had as legal tender, the (start, end) dates of that, ``None``
    for an open end (CLDR's ``territory_currencies``, as ``babel.numbers.get_territory_currencies`` reads
    it)."""
    periods: dict[str, set[tuple[Day, Day]]] = {}
    for entries in get_global("territory_currencies").values():
        for code, start, end, is_tender in entries:
            if is_tender:
                periods.setdefault(code, set()).add((start, end))
    return {code: tuple(sorted(spans, key=repr)) for code, spans in sorted(periods.items())}


def minor_digits(codes: list[str]) -> dict[str, int]:
    """The currencies among ``codes`` whose minor unit is not CLDR's default 2 digits."""
    fractions = get_global("currency_fractions")
    default = fractions["DEFAULT"][0]
    return {code: fractions[code][0] for code in codes if code in fractions and fractions[code][0] != default}


def symbols(codes: list[str]) -> dict[str, str]:
    """The currencies among ``codes`` whose ``en_US`` symbol is not the code itself."""
    known = Locale.parse(LOCALE).currency_symbols
    return {code: known[code] for code in codes if known.get(code, code) != code}


def render() -> str:
    """The module's source."""
    periods = tender_periods()
    codes = list(periods)
    version = babel.__version__
    return f'''"""Legal-tender currencies, their minor-unit digits and {LOCALE} symbols, from Babel {version}.

Made by ``scripts/make_currency_table.py``; do not edit (tests/app/test_currency_table.py compares it with
the installed Babel).
"""

LOCALE = {LOCALE!r}
"""The locale of ``SYMBOLS`` (and of the number format: ``-`` sign, ``,`` groups of 3, ``.`` decimals)."""

TENDER_PERIODS: dict[str, tuple[tuple[tuple[int, int, int] | None, tuple[int, int, int] | None], ...]] = (
{pprint.pformat(periods, indent=4, width=112, compact=True)}
)
"""(start, end) dates each currency is legal tender in some territory; None is an open end."""

DEFAULT_DIGITS = {get_global("currency_fractions")["DEFAULT"][0]}
DIGITS: dict[str, int] = {pprint.pformat(minor_digits(codes), width=100, compact=True)}
"""Minor-unit digits of the currencies without the default."""

SYMBOLS: dict[str, str] = {pprint.pformat(symbols(codes), width=100, compact=True)}
"""{LOCALE} symbols of the currencies that have one other than their code."""
'''


def main() -> None:
    """Write the module."""
    OUTPUT.write_text(render(), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ruff", "format", str(OUTPUT)], check=True)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
