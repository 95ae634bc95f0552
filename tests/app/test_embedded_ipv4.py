"""An IPv6 literal that reaches an IPv4 host is read as that host wherever the site compares hosts (the
blocklist, hidden addresses): IPv4-mapped, IPv4-compatible (``::/96``), NAT64, 6to4 and Teredo."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conexoos.app.controllers.blocklist import hosts_of
from conexoos.app.utils.address_keys import address_key
from conexoos.app.utils.urls import embedded_ipv4, normalise_url

IPv4 = ipaddress.IPv4Address


def teredo(client: IPv4) -> str:
    """A Teredo address of ``client`` (behind server 65.54.227.120, port 40000): its bits inverted."""
    inverted = int(client) ^ 0xFFFFFFFF
    return str(
        ipaddress.IPv6Address((0x20010000 << 96) | (0x4136E378 << 64) | (0x8000_63BF << 32) | inverted)
    )


SPELLINGS: dict[str, Callable[[IPv4], str]] = {
    "IPv4-mapped": lambda ip: f"::ffff:{ip}",
    "IPv4-compatible": lambda ip: f"::{ip}",
    "IPv4-compatible, in hex": lambda ip: str(ipaddress.IPv6Address(int(ip))),
    "NAT64": lambda ip: f"64:ff9b::{ip}",
    "6to4": lambda ip: str(ipaddress.IPv6Address((0x2002 << 112) | (int(ip) << 80) | 1)),
    "Teredo": teredo,
}
ADDRESSES = st.integers(min_value=2, max_value=2**32 - 1).map(IPv4)
"""Every IPv4 address but 0.0.0.0 and 0.0.0.1, whose IPv4-compatible spellings are :: and ::1."""


@pytest.mark.parametrize("spelling", SPELLINGS)
@given(address=ADDRESSES)
def test_each_ipv6_spelling_of_an_ipv4_address_is_read_as_it(spelling: str, address: IPv4) -> None:
    literal = SPELLINGS[spelling](address)
    assert embedded_ipv4(literal) == embedded_ipv4(f"[{literal}]") == str(address)
    assert hosts_of(normalise_url(f"http://[{literal}]/")) == [str(address)]
    assert hosts_of(f"mailto:a@[IPv6:{literal}]") == [str(address)]


@pytest.mark.parametrize(
    ("literal", "address"),
    [
        ("::127.0.0.2", "127.0.0.2"),
        ("::7f00:2", "127.0.0.2"),
        ("::10.0.0.1", "10.0.0.1"),
        ("::ffff:192.168.1.1", "192.168.1.1"),
        ("64:ff9b::7f00:1", "127.0.0.1"),
        ("2002:a9fe:a9fe::1", "169.254.169.254"),
        ("2002:c0a8:101:5::1", "192.168.1.1"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "10.0.0.1"),
    ],
)
def test_private_and_loopback_ipv4_addresses_in_ipv6_are_read_as_themselves(
    literal: str, address: str
) -> None:
    assert embedded_ipv4(literal) == address
    assert hosts_of(normalise_url(f"http://[{literal}]/")) == [address]
    assert address_key(f"http://[{literal}]/login") == address_key(f"http://{address}/login")


@pytest.mark.parametrize(
    "literal", ["::", "::1", "2001:db8::1", "fe80::1", "64:ff9b:1::1", "2606:4700::1111", "::1:0:0:0"]
)
def test_an_ipv6_address_that_embeds_no_ipv4_one_stays_itself(literal: str) -> None:
    assert embedded_ipv4(literal) == literal
    assert embedded_ipv4(f"[{literal}]") == f"[{literal}]"
