"""The social kind: a row of brand icons, each a link to one of the creator's profiles.

The input is a list of ``{"network", "handle"}`` entries (``handle`` is a handle or the address of the
profile); each is checked by :func:`~conexoos.app.utils.social_urls.canonical_url` and stored as
``{"network", "handle", "url"}``: the canonical https URL, and the handle as typed when one was given
(it names the icon: "Instagram: @ana.makes"), null when a URL was. An entry whose host the operator
blocks later holds ``"blocked": true`` (``controllers/blocklist.py``) and is left out of the page; so is
one a moderator hid (``"hidden_by_staff": true``): the account keeps that profile hidden, in this row
or any other, however its address is spelled (``controllers/hidden_addresses.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conexoos.app.dto.errors import InputError
from conexoos.app.dto.fields import Field
from conexoos.app.models.public_page import ShownLink, ShownProduct
from conexoos.app.utils.address_keys import profile_key
from conexoos.app.utils.icon_networks import NETWORKS
from conexoos.app.utils.social_urls import URL_MAX, SocialURLError, canonical_url

from .kind import HIDDEN_BY_STAFF, BlockFields, with_blocked_flag
from .simple import SimpleKind

ITEMS_MAX = 20
LEGACY_HIDDEN = "hidden_addresses"
"""Where rows kept the profiles their moderators hid before the account kept them (revision 0027 copied
them to the account's list); dropped from a row when it is next saved."""
ENTRY_KEYS = ("network", "handle")


@dataclass(frozen=True)
class SocialIcon:
    """One icon as the page draws it: where it links, its sprite symbol and its accessible name."""

    url: str
    symbol: str
    label: str


def _entry(index: int, entry: Any) -> dict[str, Any]:
    """One parsed entry; a 422 naming ``items[index]`` (or its key) otherwise."""
    where = f"items[{index}]"
    if not isinstance(entry, dict):
        raise InputError(f"Entry {index + 1} must be an object with a network and a handle.", where, "type")
    unknown = sorted(str(key) for key in entry if key not in ENTRY_KEYS)
    if unknown:
        message = f"Entry {index + 1} has an unknown field {unknown[0]!r}; expected: network, handle."
        raise InputError(message, f"{where}.{unknown[0]}", "unknown_field")
    network = entry.get("network")
    if not isinstance(network, str) or network not in NETWORKS:
        message = f"Entry {index + 1}: choose a network from the list (for example instagram, github)."
        raise InputError(message, f"{where}.network", "network")
    handle = entry.get("handle")
    if not isinstance(handle, str):
        message = f"Entry {index + 1}: enter your {NETWORKS[network].name} handle or profile address."
        raise InputError(message, f"{where}.handle", "required" if handle is None else "type")
    try:
        url = canonical_url(network, handle)
    except SocialURLError as error:
        raise InputError(f"Entry {index + 1}: {error}", f"{where}.handle", "social_handle") from error
    typed = handle.strip()
    is_url = "://" in typed or typed.lower().startswith(("http:", "https:"))
    return {"network": network, "handle": None if is_url else typed, "url": url}


def _parse_items(value: Any, field: Field) -> list[dict[str, Any]]:
    """1 to :data:`ITEMS_MAX` entries, each a known network and a handle or URL on it, no profile twice
    (however spelled: ``utils/address_keys.profile_key``)."""
    if not isinstance(value, list):
        raise InputError("items must be a list of {network, handle} entries.", "items", "type")
    if not 1 <= len(value) <= ITEMS_MAX:
        message = f"A row of icons holds 1 to {ITEMS_MAX} profiles; this one has {len(value)}."
        raise InputError(message, "items", "too_many" if value else "required")
    entries = [_entry(index, entry) for index, entry in enumerate(value)]
    first_of: dict[str, int] = {}
    for index, entry in enumerate(entries):
        first = first_of.setdefault(profile_key(entry["url"]), index)
        if first != index:
            message = f"Entry {index + 1} is the same profile as entry {first + 1}: keep one of them."
            raise InputError(message, f"items[{index}].handle", "duplicate")
    return entries


ITEMS = Field(
    "items",
    {
        "type": "array",
        "minItems": 1,
        "maxItems": ITEMS_MAX,
        "items": {
            "type": "object",
            "properties": {
                "network": {"type": "string", "enum": sorted(NETWORKS)},
                "handle": {"type": "string", "minLength": 1, "maxLength": URL_MAX},
            },
            "required": list(ENTRY_KEYS),
            "additionalProperties": False,
        },
    },
    _parse_items,
    True,
    "The profiles, in order: a network and a handle or the address of the profile on it. Responses "
    "give each entry's canonical https `url` too, `blocked: true` on an entry the site's blocklist "
    "hides, and `hidden_by_staff: true` on one a moderator hid (the account keeps that profile "
    "hidden however its address is spelled).",
)


def icon_of(entry: dict[str, Any]) -> SocialIcon | None:
    """How a stored entry is drawn; None for a network this version no longer knows, or an entry whose
    host is on the blocklist or that a moderator hid."""
    network = NETWORKS.get(str(entry.get("network")))
    url = entry.get("url")
    if network is None or not isinstance(url, str) or entry.get("blocked") or entry.get(HIDDEN_BY_STAFF):
        return None
    return SocialIcon(url, network.symbol, entry_label(entry))


def entry_label(entry: dict[str, Any]) -> str:
    """An entry's accessible name: the network, and the handle when one was typed."""
    known = NETWORKS.get(str(entry.get("network")))
    name = known.name if known else str(entry.get("network"))
    handle = entry.get("handle")
    return f"{name}: {handle}" if handle else name


def _hidden_if(entry: Any, hidden: Callable[[str], bool]) -> Any:
    if isinstance(entry, dict) and isinstance(entry.get("url"), str) and hidden(entry["url"]):
        return {**entry, HIDDEN_BY_STAFF: True}
    return entry


def _flag(entry: Any, blocked: Callable[[str, bool], bool]) -> Any:
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        return entry
    return with_blocked_flag(entry, blocked)


class SocialKind(SimpleKind):
    """A row of social icons: its entries drawn as brand icons linking to the profiles."""

    keeps_addresses = True

    def addresses(self, fields: dict[str, Any]) -> list[tuple[str, str]]:
        """Each entry's canonical URL, a refusal naming the entry's handle."""
        entries = fields.get("items", [])
        return [
            (f"items[{index}].handle", entry["url"])
            for index, entry in enumerate(entries)
            if isinstance(entry, dict) and isinstance(entry.get("url"), str)
        ]

    def flagged(self, fields: dict[str, Any], blocked: Callable[[str, bool], bool]) -> dict[str, Any]:
        """The entries, each with ``"blocked": true`` when ``blocked`` says so (no key otherwise)."""
        if "items" not in fields:
            return fields
        return {**fields, "items": [_flag(entry, blocked) for entry in fields["items"]]}

    hideable = True

    def hidden(self, fields: dict[str, Any], item: int | None) -> dict[str, Any]:
        """The entries, ``item`` (its index) hidden by a moderator. ValueError without ``item`` (a row is
        hidden an icon at a time) or for an icon hidden already."""
        if item is None:
            raise ValueError("Choose the icon to hide: a row is hidden an icon at a time.")
        entries = list(fields.get("items", []))
        if not 0 <= item < len(entries) or not isinstance(entries[item], dict):
            raise LookupError("no such icon in the row")
        if entries[item].get(HIDDEN_BY_STAFF):
            raise ValueError("That icon is hidden already: choose another action.")
        entries[item] = {**entries[item], HIDDEN_BY_STAFF: True}
        return {**fields, "items": entries}

    def hidden_on_account(self, fields: dict[str, Any], hidden: Callable[[str], bool]) -> dict[str, Any]:
        """The entries, each whose address was hidden on the account hidden by a moderator."""
        kept = {name: value for name, value in fields.items() if name != LEGACY_HIDDEN}
        if not isinstance(kept.get("items"), list):
            return kept
        return {**kept, "items": [_hidden_if(entry, hidden) for entry in kept["items"]]}

    def shown(self, block: BlockFields, link: ShownLink | None, product: ShownProduct | None) -> Any:
        """The row's icons (None hides a row none of whose networks is known)."""
        icons = [icon for entry in block.fields.get("items", []) if (icon := icon_of(entry))]
        return icons or None


SOCIAL = SocialKind(
    "social",
    "social icons row",
    "social icons rows",
    (ITEMS,),
    limit=3,
    summary="A row of brand icons, each linking to one of your profiles on a social network.",
)
