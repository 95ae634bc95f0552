"""The link policy: a blocklist of domains refused in links, with their subdomains.

A blocked domain is refused in new and edited links (the links API answers 422), and existing links to
it get ``user_link.blocked``: hidden from public pages at no extra query (the page's live condition reads
the flag) and ``/go`` answers 410. Products get ``product.blocked`` the same way; the addresses blocks keep
in their fields (social icons, embeds) are refused the same way and flagged ``"blocked": true`` in the
block's JSON, which the page reads with the block. Removing the domain unblocks what no other entry
still blocks. Domains are stored IDNA-encoded (``xn--`` ASCII), lower case, without a trailing dot.
Every change is audit-logged in the transaction that makes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from conexoos.app.controllers import audit
from conexoos.app.dto.errors import InputError
from conexoos.app.models.persistent import BlockedDomain, PageBlock, Product, UserLink
from conexoos.app.utils.text import escaped_invisibles
from conexoos.app.utils.urls import embedded_ipv4, ends_in_a_number, mailboxes, to_ascii_host, whatwg_ipv4
from conexoos.framework import db
from conexoos.framework.lazy import lazy_module
from conexoos.framework.wording import counted

if TYPE_CHECKING:
    import idna
else:
    idna = lazy_module("idna")  # IDNA 2008 tables, read at the first host or address converted

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_DOMAIN = 253
MAX_IMPORT_LINES = 20_000


class BlocklistError(ValueError):
    """A domain that cannot go on the list; the message says why."""


@dataclass
class ImportResult:
    """What an import did: domains added, ones already listed, and the lines refused (number, text with
    its invisible and bidirectional characters escaped, why)."""

    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)


def normalise_domain(raw: str) -> str:
    """``raw`` as stored: IDNA-encoded, lower case, no trailing dot; :class:`BlocklistError` otherwise."""
    text = raw.strip().rstrip(".")
    if text.startswith("*."):
        text = text[2:]
    if not text:
        raise BlocklistError("Give a domain name, such as example.com.")
    if "/" in text or ":" in text or "@" in text or " " in text:
        raise BlocklistError(f"{text[:80]!r} is not a domain name: give only the host, such as example.com.")
    try:
        domain = to_ascii_host(text).lower()
    except (idna.IDNAError, UnicodeError, ValueError) as error:
        raise BlocklistError(f"{text[:80]!r} is not a valid domain name ({error}).") from None
    if ends_in_a_number(domain):  # an IPv4 address, in any spelling a browser accepts
        address = whatwg_ipv4(domain)
        if address is None:
            raise BlocklistError(f"{text[:80]!r} is not a valid domain name or IPv4 address.")
        return address
    labels = domain.split(".")
    if len(domain) > MAX_DOMAIN or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise BlocklistError(f"{text[:80]!r} is not a valid domain name, such as example.com.")
    return domain


def host_of(url: str) -> str | None:
    """The host of a stored (normalised) link URL, or of a mailto's first address; None for tel: and the
    like."""
    hosts = hosts_of(url)
    return hosts[0] if hosts else None


def hosts_of(url: str) -> list[str]:
    """Every host ``url`` leads to: an http(s) URL's host, or the (percent-decoded) domain of each address
    of a mailto, in its path and in its ``to``, ``cc`` and ``bcc`` fields; empty for tel: and the like."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        host = (parts.hostname or "").rstrip(".").lower()
        return [_as_browsers_read(host)] if host else []
    return [host for host in map(_mail_host, mailboxes(url)) if host]


def _as_browsers_read(host: str) -> str:
    """A URL's host as the address a browser connects to where it is one: links are stored that way
    already, but a social icon's URL keeps the host as typed (``0x7f.1``, ``[::ffff:7f00:1]``)."""
    if ":" in host:
        return embedded_ipv4(host)
    return (whatwg_ipv4(host) or host) if ends_in_a_number(host) else host


def _mail_host(address: str) -> str:
    if "@" not in address:
        return ""
    host = address.rsplit("@", 1)[1].strip().rstrip(">").rstrip(".").lower()
    if host.startswith("["):  # an address literal: a@[1.2.3.4], a@[::ffff:1.2.3.4]
        return embedded_ipv4(host.strip("[]").removeprefix("ipv6:"))
    try:
        return to_ascii_host(host).lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return host


def parents(host: str) -> list[str]:
    """``host`` and each domain above it: ``a.b.example`` → ``a.b.example``, ``b.example``, ``example``."""
    labels = host.split(".")
    return [".".join(labels[index:]) for index in range(len(labels))]


def blocking_domain(url: str) -> str | None:
    """The listed domain that blocks ``url`` (one of its hosts or a parent), or None (one query)."""
    hosts = hosts_of(url)
    if not hosts:
        return None
    candidates = {domain for host in hosts for domain in parents(host)}
    return db.session.scalar(
        select(BlockedDomain.domain).where(BlockedDomain.domain.in_(sorted(candidates))).limit(1)
    )


def blocked_among(urls: Iterable[str]) -> set[str]:
    """The ``urls`` that lead to a listed domain or a subdomain of one (one query for all of them)."""
    candidates = {url: {domain for host in hosts_of(url) for domain in parents(host)} for url in urls}
    wanted = sorted(set().union(*candidates.values())) if candidates else []
    if not wanted:
        return set()
    listed_domains = set(
        db.session.scalars(select(BlockedDomain.domain).where(BlockedDomain.domain.in_(wanted)))
    )
    return {url for url, domains in candidates.items() if domains & listed_domains}


def refuse_blocked(url: str, field: str = "url") -> None:
    """Raise the API's 422 (on ``field``) when ``url`` points to a blocked domain or one of its
    subdomains."""
    domain = blocking_domain(url)
    if domain is not None:
        raise InputError(
            f"Links to {domain} are not allowed on this site: the domain is on its blocklist.",
            field=field,
            code="blocked_domain",
        )


def refuse_any_blocked(addresses: Iterable[tuple[str, str]]) -> None:
    """:func:`refuse_blocked` for each ``(field, url)``: the 422 names the first blocked one's field."""
    for field_name, url in addresses:
        refuse_blocked(url, field_name)


def listed(limit: int, offset: int) -> Sequence[BlockedDomain]:
    """A page of the blocked domains, alphabetically."""
    query = select(BlockedDomain).order_by(BlockedDomain.domain).limit(limit).offset(offset)
    return db.session.scalars(query).all()


def count_listed() -> int:
    """How many domains are blocked."""
    return int(db.session.scalar(select(func.count()).select_from(BlockedDomain)) or 0)


def add(actor_id: int | None, raw: str) -> tuple[BlockedDomain, int]:
    """Block ``raw`` (normalised) and mark the existing links to it; the entry and how many links it
    blocked. :class:`BlocklistError` when invalid or already listed. Commits."""
    domain = normalise_domain(raw)
    if db.session.scalar(select(BlockedDomain.id).where(BlockedDomain.domain == domain)) is not None:
        raise BlocklistError(f"{domain} is already on the blocklist.")
    entry, count = _add(actor_id, domain)
    db.session.commit()
    return entry, count


def _add(actor_id: int | None, domain: str) -> tuple[BlockedDomain, int]:
    entry = BlockedDomain(domain=domain, created_by_id=actor_id)
    db.session.add(entry)
    db.session.flush()
    count = _mark(domain)
    audit.record(
        "blocklist.add", entry, None, {"domain": domain, "links_blocked": count}, f"{domain} blocked"
    )
    return entry, count


def remove(domain_id: int) -> tuple[str, int] | None:
    """Take the entry off the list and unblock the links no other entry blocks; (domain, links unblocked),
    or None for an unknown id. Commits."""
    entry = db.session.get(BlockedDomain, domain_id)
    if entry is None:
        return None
    domain = entry.domain
    db.session.delete(entry)
    db.session.flush()
    count = 0
    for link in db.session.scalars(select(UserLink).where(UserLink.blocked.is_(True))):
        if blocking_domain(link.url) is None:
            link.blocked = False
            count += 1
    for product in db.session.scalars(select(Product).where(Product.blocked.is_(True))):
        if blocking_domain(product.buy_url) is None:
            product.blocked = False
    _flag_blocks(lambda url, flagged: flagged and blocking_domain(url) is not None)
    audit.record(
        "blocklist.remove",
        ("blocked_domain", domain_id),
        {"domain": domain},
        {"links_unblocked": count},
        f"{domain} unblocked",
    )
    db.session.commit()
    return domain, count


def import_lines(actor_id: int | None, lines: Iterable[str]) -> ImportResult:
    """Add one domain a line (``#`` starts a comment; blank lines are skipped); invalid lines are
    reported with their number, never fatal. Adds the valid ones together, marks the links to them in one
    pass and writes one audit entry for the whole import. Commits."""
    result = ImportResult()
    known = set(db.session.scalars(select(BlockedDomain.domain)))
    for number, line in enumerate(lines, start=1):
        if number > MAX_IMPORT_LINES:
            result.errors.append((number, "", f"only the first {MAX_IMPORT_LINES} lines are read"))
            break
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            domain = normalise_domain(text)
        except BlocklistError as error:
            result.errors.append((number, escaped_invisibles(text[:100]), str(error)))
            continue
        if domain in known:
            result.already.append(domain)
            continue
        known.add(domain)
        result.added.append(domain)
    if result.added:
        db.session.add_all(BlockedDomain(domain=domain, created_by_id=actor_id) for domain in result.added)
        db.session.flush()
        count = _mark_all(set(result.added))
        audit.record(
            "blocklist.import",
            ("blocked_domain", None),
            None,
            {"added": len(result.added), "links_blocked": count},
            f"{counted(len(result.added), 'domain')} blocked by an import; {counted(count, 'link')} hidden",
        )
    db.session.commit()
    return result


def split_lines(text: str) -> list[str]:
    """``text`` split on line feeds only (a carriage return before one is dropped): the numbers an editor
    shows, whatever Unicode line separators the lines hold."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _mark_all(domains: set[str]) -> int:
    """Set ``blocked`` on every link and product leading to one of ``domains`` (or below), reading the
    unblocked ones once; how many links were newly blocked."""
    count = 0
    for link in db.session.scalars(select(UserLink).where(UserLink.blocked.is_(False))):
        if _leads_to_any(link.url, domains):
            link.blocked = True
            count += 1
    for product in db.session.scalars(select(Product).where(Product.blocked.is_(False))):
        if _leads_to_any(product.buy_url, domains):
            product.blocked = True
    _flag_blocks(lambda url, flagged: flagged or _leads_to_any(url, domains))
    return count


def _leads_to_any(url: str, domains: set[str]) -> bool:
    return any(not domains.isdisjoint(parents(host)) for host in hosts_of(url))


def _mark(domain: str) -> int:
    """Set ``blocked`` on every link and product whose host is ``domain`` or below it; how many links were
    newly blocked. Candidates contain the domain in any case, and every mailto (its addresses may be
    percent-encoded)."""
    count = 0
    links = select(UserLink).where(UserLink.blocked.is_(False), _may_lead_to(UserLink.url, domain))
    for link in db.session.scalars(links):
        if _leads_to(link.url, domain):
            link.blocked = True
            count += 1
    products = select(Product).where(Product.blocked.is_(False), _may_lead_to(Product.buy_url, domain))
    for product in db.session.scalars(products):
        if _leads_to(product.buy_url, domain):
            product.blocked = True
    _flag_blocks(lambda url, flagged: flagged or _leads_to(url, domain))
    return count


def _flag_blocks(blocked: Callable[[str, bool], bool]) -> None:
    """Rewrite the blocklist flags of the addresses in every block of a kind that keeps some, as
    ``blocked(url, flagged_now)`` says (a block is written only when a flag changes)."""
    from conexoos.app.controllers.blocks.registry import KINDS  # the kinds import this module

    kinds = {name: kind for name, kind in KINDS.items() if kind.keeps_addresses}
    for block in db.session.scalars(select(PageBlock).where(PageBlock.kind.in_(sorted(kinds)))):
        fields = block.fields
        flagged = kinds[block.kind].flagged(fields, blocked)
        if flagged != fields:
            block.fields = flagged


def _may_lead_to(url: InstrumentedAttribute[str], domain: str) -> ColumnElement[bool]:
    candidates = [func.lower(url).contains(domain, autoescape=True), func.lower(url).startswith("mailto:")]
    if ends_in_a_number(domain):  # an IPv4 address, which an IPv6 literal may spell differently
        candidates.append(url.contains("[", autoescape=True))
    return or_(*candidates)


def _leads_to(url: str, domain: str) -> bool:
    return any(domain in parents(host) for host in hosts_of(url))
