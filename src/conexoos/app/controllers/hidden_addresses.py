"""What a moderator hid stays hidden on its account: every address hidden from a report (a link, a
product's buy link, a social icon, an embed) is kept for the account (``HiddenAddress``), and a link, a
product, an icon or an embed its owner adds or re-addresses later for the same address is stored hidden by
a moderator, whatever kind holds it now.

Without this, deleting a hidden link (or product, or the row holding a hidden icon, or a hidden embed) and
adding it again showed it again. Another spelling of a hidden address matches it (``utils/address_keys.py``):

- any address: by :func:`address_key` (scheme, ``www.``, host case, default port, dot segments, escapes,
  trailing slash, parameter order, tracking parameters and fragment do not count);
- a social profile (one hidden as an icon, or any address on a known network's host, such as a link to
  an Instagram profile): also by :func:`profile_key` (the network's other hosts, the name's case, the
  network's share parameters);
- a video or a track (an embed's, or a link's to one): also by :func:`player_key` (any of the provider's
  addresses, any start time).

The addresses are kept as spelled when hidden, and compared by these keys when checked, so that a better
key later applies to what was hidden before. Nothing here shows an address again: staff have no
un-hide action, and the rows go with their account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import urlsplit

from werkzeug.exceptions import Conflict

from conexoos.app.models.persistent import HiddenAddress, Report
from conexoos.app.models.persistent.hidden_address import ADDRESS_MAX, SOCIAL
from conexoos.app.utils.address_keys import (
    address_key,
    mail_recipients,
    network_of,
    player_key,
    profile_key,
)
from conexoos.framework import db

Check = Callable[[str], bool]


class HideableRow(Protocol):
    """A link or a product: a row staff hide whole."""

    hidden_by_staff: bool


def _keys(url: str, as_profile: bool = True) -> set[str]:
    """The keys of ``url``: of an address checked, all of them; of one hidden, its profile key only when
    ``as_profile`` (an icon's, or one on a network's host), so that hiding a page elsewhere does not
    hide every address sharing its path in another case."""
    keys = {f"address:{address_key(url)}"} | {f"address:{box}" for box in mail_recipients(url)}
    if as_profile:
        keys.add(f"profile:{profile_key(url)}")
    played = player_key(url)
    return keys | {f"player:{played}"} if played else keys


def _on_a_network(address: str) -> bool:
    try:
        return network_of(urlsplit(address).hostname or "") is not None
    except ValueError:
        return False


def hidden_check(owner_id: int) -> Check:
    """Whether an address matches one hidden on ``owner_id``'s page (one query, then none per address)."""
    hidden: set[str] = set()
    for kind, address in HiddenAddress.of_user(owner_id):
        hidden |= _keys(address, as_profile=kind == SOCIAL or _on_a_network(address))
    if not hidden:
        return lambda url: False
    return lambda url: not hidden.isdisjoint(_keys(url))


def any_hidden(owner_id: int, urls: Iterable[str]) -> bool:
    """Whether one of ``urls`` matches an address hidden on ``owner_id``'s page."""
    check = hidden_check(owner_id)
    return any(check(url) for url in urls)


def hide_row_fields(
    owner_id: int, row: HideableRow | None, fields: dict[str, Any], address: str, refusal: str
) -> None:
    """Make ``fields`` (of a new link or product, ``row`` None, or an edit of ``row``) hidden by a
    moderator when the address in ``fields[address]`` was hidden on the account; raise a 409 with
    ``refusal`` when they would show a row a moderator hid.

    A hidden row moved to an address that is not hidden is a new link or product (as deleting it and
    adding that address would give): no longer hidden by a moderator, and off unless ``fields`` turn it
    on. What was hidden is its address, which stays hidden on the account: asking to show a hidden row is
    refused whether the edit repeats its address or not (with it, ``enabled`` was silently dropped)."""
    if address in fields and any_hidden(owner_id, [fields[address]]):
        if row is not None and row.hidden_by_staff and fields.get("enabled"):  # as without the address
            raise Conflict(refusal)
        fields.update(enabled=False, hidden_by_staff=True)
    elif row is None or not row.hidden_by_staff:
        return
    elif address in fields and fields[address] != getattr(row, address):
        fields.update(enabled=bool(fields.get("enabled")), hidden_by_staff=False)
    elif fields.get("enabled"):
        raise Conflict(refusal)


def remember(owner_id: int, kind: str, address: str, report: Report) -> None:
    """Keep ``address`` (hidden as ``kind`` after ``report``) hidden on ``owner_id``'s page, in the
    current transaction; once for each spelling."""
    address = address[:ADDRESS_MAX]
    if (kind, address) not in HiddenAddress.of_user(owner_id):
        db.session.add(HiddenAddress(user_id=owner_id, kind=kind, address=address, report_id=report.id))
