"""Checking and normalising the URLs people put on their page.

Host names are written as browsers resolve them: UTS 46 mapping (non-transitional, as in the WHATWG URL
standard) then IDNA 2008 for each label that is not plain ASCII, so ``straße.de`` stays ``xn--strae-oqa.de``
(IDNA 2003, Python's ``idna`` codec, would send the visitor to ``strasse.de``, somebody else's site).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from conexoos.framework.lazy import lazy_module

from .text import has_control_characters

if TYPE_CHECKING:
    import idna
else:
    idna = lazy_module("idna")  # IDNA 2008 tables, read at the first host or address converted

ALLOWED_SCHEMES = ("http", "https", "mailto", "tel")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_HOST = re.compile(r"^[a-z0-9\-._~]+$")
_TEL = re.compile(r"^\+?[0-9().\- ]{3,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BARE_EMAIL = re.compile(r"^[^@\s/:?#]+@[^@\s/:?#]+\.[^@\s/:?#]+$")
"""An e-mail address typed where a URL goes: no scheme, one @, a dot after it, no path."""


class UnsafeURL(ValueError):
    """A URL that may not go on a page; the message says why, in words a person can act on."""


HOST_SHOWN = 60
"""How much of a refused host name (or of the parser's complaint) an error repeats."""


def _quoted(host: str) -> str:
    """``host`` quoted for an error, cut to :data:`HOST_SHOWN` characters (a page of it helps nobody)."""
    return repr(_cut(host))


def _cut(text: str) -> str:
    return text if len(text) <= HOST_SHOWN else text[: HOST_SHOWN - 1] + "…"


def normalise_url(raw: str, schemes: tuple[str, ...] = ALLOWED_SCHEMES) -> str:
    """Return ``raw`` as a canonical URL of one of ``schemes`` (by default http(s), mailto or tel), or
    raise :class:`UnsafeURL`."""
    text = raw.strip()
    if not text:
        raise UnsafeURL("a URL is required")
    # Browsers drop tabs and newlines inside URLs ("java\tscript:"), so control characters are refused
    # outright; a plain space is kept and percent-encoded below.
    if has_control_characters(text):
        raise UnsafeURL("a URL may not contain tabs, line breaks or control characters")
    match = _SCHEME.match(text)
    if match is None:
        _refuse_an_email_address(text, schemes)
        text = "https:" + text if text.startswith("//") else "https://" + text
        match = _SCHEME.match(text)
    assert match is not None
    scheme = match.group(1).lower()
    if scheme not in schemes:
        allowed = ", ".join(schemes[:-1]) + f" or {schemes[-1]}" if len(schemes) > 1 else schemes[0]
        raise UnsafeURL(f"the {scheme}: scheme is not allowed; use {allowed}")
    if scheme == "mailto":
        return _mailto(text[len("mailto:") :])
    if scheme == "tel":
        return _tel(text[len("tel:") :])
    return _web(scheme, text)


def _refuse_an_email_address(text: str, schemes: tuple[str, ...]) -> None:
    """An e-mail address typed without a scheme would read as https://ana@example.org, a URL with a user
    name, and be refused as one: say what to write instead."""
    if not _BARE_EMAIL.match(text):
        return
    if "mailto" in schemes:
        raise UnsafeURL(f"this looks like an e-mail address: write it as mailto:{_cut(text)}")
    raise UnsafeURL("this looks like an e-mail address, not a web address")


def _web(scheme: str, text: str) -> str:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(f"not a valid URL ({_cut(str(error))})") from None
    if port == 0:
        raise UnsafeURL("port 0 is not a port anything listens on; give the site's port, or none")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("a URL with a user name or password is not allowed")
    host = _host(parts.hostname or "")
    default_port = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="=&%:@!$'()*+,;/?-._~")
    fragment = quote(parts.fragment, safe="=&%:@!$'()*+,;/?-._~")
    return urlunsplit((scheme, netloc, path, query, fragment))


def _host(raw: str) -> str:
    """The host as it goes in the URL: IDNA-encoded name, dotted IPv4, or a bracketed IPv6 literal."""
    host = raw.rstrip(".")
    if not host:
        raise UnsafeURL("the URL has no host name")
    if ":" in host:  # urlsplit strips the brackets of an IPv6 literal
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise UnsafeURL(f"{_quoted(host)} is not a valid IPv6 address") from None
    try:
        ascii_host = to_ascii_host(host)
    except idna.IDNAError as error:
        raise UnsafeURL(f"{_quoted(host)} is not a valid host name ({error})") from None
    if ends_in_a_number(ascii_host):
        address = whatwg_ipv4(ascii_host)
        if address is None:
            raise UnsafeURL(f"{_quoted(host)} is not a valid host name or IPv4 address")
        return address
    if not _HOST.match(ascii_host) or ("." not in ascii_host and ascii_host != "localhost"):
        raise UnsafeURL(f"{_quoted(host)} is not a valid host name")
    return ascii_host


MAILBOX = re.compile(r"(?:\"[^\"]*\"|[^\s<>,;:\"()\[\]])+@(?:\[[^\]]*\]|[^\s<>,;:\"()@\[\]]+)")
"""A mailbox in a list of recipients, whatever separates (``,``, ``;``) or names (``Name <box>``) it; a
quoted local part (``"a,b"@x``) and an address literal (``a@[::ffff:1.2.3.4]``) are one piece each."""
MAIL_FIELDS = ("to", "cc", "bcc")
"""A ``mailto:`` URL's parameters that name more recipients."""


def mailboxes(url: str) -> list[str]:
    """Every mailbox a ``mailto:`` URL writes to, as written (percent-decoded): its path's, then those of
    its ``to``, ``cc`` and ``bcc`` parameters; none for another URL."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "mailto":
        return []
    named = [value for name, value in parse_qsl(parts.query) if name.lower() in MAIL_FIELDS]
    return [box for value in (unquote(parts.path), *named) for box in MAILBOX.findall(value)]


NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
"""The well-known NAT64 prefix (RFC 6052): ``64:ff9b::1.2.3.4`` reaches 1.2.3.4 through the gateway."""
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
"""IPv4-compatible addresses (RFC 4291, deprecated): ``::1.2.3.4``, written ``::102:304``, reaches 1.2.3.4
over an automatic tunnel (Linux's ``sit0``); ``::`` and ``::1`` are IPv6's own, unspecified and loopback."""


def embedded_ipv4(host: str) -> str:
    """An IPv6 literal that reaches an IPv4 host as that dotted IPv4 address, so that rules about
    ``1.2.3.4`` (the blocklist, hidden addresses) apply to it: IPv4-mapped ``::ffff:1.2.3.4``,
    IPv4-compatible ``::1.2.3.4``, NAT64's well-known ``64:ff9b::1.2.3.4``, 6to4's ``2002:102:304::/48``
    (the network behind 1.2.3.4) and Teredo's ``2001:0::/32`` (its client's address, kept inverted). Any
    other host as it is."""
    if ":" not in host:
        return host
    try:
        address = ipaddress.IPv6Address(host.strip("[]"))
    except ValueError:
        return host
    embedded = _reached_ipv4(address)
    return str(embedded) if embedded is not None else host


def _reached_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``address`` embeds and reaches, or None when it embeds none."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # (server, client): the client is the host reached
    if address in NAT64_PREFIX or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def ends_in_a_number(host: str) -> bool:
    """Whether browsers read ``host`` as an IPv4 address (the WHATWG URL standard's "ends in a number"):
    its last label is decimal digits, or a hex (``0x7f``) or octal (``0177``) number."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    return bool(last) and ((last.isascii() and last.isdigit()) or _ipv4_number(last) is not None)


def whatwg_ipv4(host: str) -> str | None:
    """``host`` as the dotted-decimal IPv4 address a browser connects to (``0x7f.1``, ``0177.0.0.1`` and
    ``2130706433`` are all ``127.0.0.1``), or None when it is not a valid one."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    numbers = [_ipv4_number(label) for label in labels]
    if len(labels) > 4 or any(number is None for number in numbers):
        return None
    parts = [number for number in numbers if number is not None]
    if any(part > 255 for part in parts[:-1]) or parts[-1] >= 256 ** (5 - len(parts)):
        return None
    value = parts[-1] + sum(part * 256 ** (3 - index) for index, part in enumerate(parts[:-1]))
    return str(ipaddress.IPv4Address(value))


def _ipv4_number(label: str) -> int | None:
    """One label of a WHATWG IPv4 host: decimal, ``0x`` hex (empty digits are 0) or ``0``-led octal."""
    if not label or not label.isascii():
        return None
    digits, base = label, 10
    if label[:2].lower() == "0x":
        digits, base = label[2:], 16
    elif len(label) > 1 and label[0] == "0":
        digits, base = label[1:], 8
    if not digits:
        return 0
    allowed = {10: "0123456789", 16: "0123456789abcdefABCDEF", 8: "01234567"}[base]
    if any(character not in allowed for character in digits):
        return None
    return int(digits, base)


def to_ascii_host(host: str) -> str:
    """``host`` as browsers send it to DNS: UTS 46 mapped (non-transitional), each Unicode label in IDNA
    2008 Punycode; plain ASCII labels are kept as they are (browsers accept ``_`` and ``--`` in them).

    Raises ``idna.IDNAError`` for a label IDNA 2008 forbids (a joiner out of context, a symbol, a bad
    ``xn--`` label, an empty label).
    """
    mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
    return ".".join(_ascii_label(label) for label in mapped.split("."))


def _ascii_label(label: str) -> str:
    if not label:
        raise idna.IDNAError("Empty label")
    if not label.isascii():
        return str(idna.alabel(label).decode("ascii"))
    if label.startswith("xn--"):
        idna.ulabel(label)  # a Punycode label must decode to a valid IDNA 2008 label
    return label


def _mailto(address: str) -> str:
    """The mailbox and its fields, escaped. A ``#`` in the local part (``a#b@…``) belongs to it, and one
    in a field's text to that text; one after the domain starts a fragment, which mail ignores (as
    browsers do), so it is dropped rather than made part of the domain."""
    target, question, fields = address.partition("?")
    at = target.rfind("@")
    if "#" in target[at + 1 :]:
        target, question, fields = target[: target.index("#", at + 1)], "", ""
    if "," in target and all(_EMAIL.match(box.strip()) for box in target.split(",")):
        raise UnsafeURL("a mailto: link here writes to one address; put the others in cc=")
    if not _EMAIL.match(target):
        raise UnsafeURL("a mailto: link needs an email address")
    return "mailto:" + quote(target + question + fields, safe="@=&?+.-_~%")


def _tel(number: str) -> str:
    if not _TEL.match(number):
        raise UnsafeURL("a tel: link needs a phone number")
    return "tel:" + re.sub(r"[ ().\-]", "", number)
