"""What a moderator hid stays hidden on its account: every address hidden from a report (a link, a social
icon, an embed) is kept for the account (``HiddenAddress``), and a link, an icon or an embed its owner adds
or re-addresses later for the same address is stored hidden by a moderator, whatever kind holds it now.

Without this, deleting a hidden link (or the row holding a hidden icon, or a hidden embed) and adding it
again showed it again. Another spelling of a hidden address matches it:

- any address: the same host without ``www.`` and in lower case, port, path without its trailing slash and
  query (the scheme and the fragment are ignored): :func:`address_key`;
- a hidden social profile: the same profile however it is spelled (``utils.social_urls.profile_key``:
  its query is ignored too, and its path's case);
- a hidden embed: the same video or track at any of its provider's addresses, from any start time
  (``utils.players.embed_key``: ``youtu.be/<id>`` is ``youtube.com/watch?v=<id>``).

The addresses are kept as spelled when hidden, and compared by these keys when checked, so that a better
key later applies to what was hidden before. Nothing here shows an address again: staff have no
un-hide action, and the rows go with their account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from conexoos.app.models.persistent import HiddenAddress, Report
from conexoos.app.models.persistent.hidden_address import ADDRESS_MAX, EMBED, SOCIAL
from conexoos.app.utils.players import embed_key
from conexoos.app.utils.social_urls import profile_key
from conexoos.framework import db

Check = Callable[[str], bool]


def address_key(url: str) -> str:
    """What two spellings of one address share: host (lower case, no ``www.``), port, path without its
    trailing slash (its case kept: ``bit.ly/AbC`` is not ``bit.ly/abc``), and query."""
    try:
        parts = urlsplit(url.strip())
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # an address no URL parser reads: only itself matches it
        return url
    host = (parts.hostname or "").removeprefix("www.")
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{port}{parts.path.rstrip('/')}{query}"


def _keys(kind: str, url: str) -> set[str]:
    """The keys another address must share one of to match ``url``, hidden as ``kind``."""
    keys = {f"address:{address_key(url)}"}
    if kind == SOCIAL:
        keys.add(f"profile:{profile_key(url)}")
    played = embed_key(url) if kind == EMBED else None
    if played:
        keys.add(f"player:{played}")
    return keys


def _all_keys(url: str) -> set[str]:
    """Every key of ``url`` (as any kind would compare it)."""
    keys = {f"address:{address_key(url)}", f"profile:{profile_key(url)}"}
    played = embed_key(url)
    return keys | {f"player:{played}"} if played else keys


def hidden_check(owner_id: int) -> Check:
    """Whether an address matches one hidden on ``owner_id``'s page (one query, then none per address)."""
    hidden: set[str] = set()
    for kind, address in HiddenAddress.of_user(owner_id):
        hidden |= _keys(kind, address)
    if not hidden:
        return lambda url: False
    return lambda url: not hidden.isdisjoint(_all_keys(url))


def any_hidden(owner_id: int, urls: Iterable[str]) -> bool:
    """Whether one of ``urls`` matches an address hidden on ``owner_id``'s page."""
    check = hidden_check(owner_id)
    return any(check(url) for url in urls)


def remember(owner_id: int, kind: str, address: str, report: Report) -> None:
    """Keep ``address`` (hidden as ``kind`` after ``report``) hidden on ``owner_id``'s page, in the
    current transaction; once for each spelling."""
    address = address[:ADDRESS_MAX]
    if (kind, address) not in HiddenAddress.of_user(owner_id):
        db.session.add(HiddenAddress(user_id=owner_id, kind=kind, address=address, report_id=report.id))
