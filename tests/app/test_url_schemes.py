"""Which URLs may go on a page: http(s), mailto and tel, normalised; never script or data."""

from __future__ import annotations

import pytest

from conexoos.app.utils.urls import ALLOWED_SCHEMES, UnsafeURL, normalise_url

from .conftest import Account

ACCEPTED = [
    ("http://example.com", "http://example.com/"),
    ("https://example.com/path?q=1#top", "https://example.com/path?q=1#top"),
    ("HTTPS://Example.COM/Path", "https://example.com/Path"),
    ("  https://example.com/  ", "https://example.com/"),
    ("example.com", "https://example.com/"),
    ("www.example.com/a b", "https://www.example.com/a%20b"),
    ("//example.com/x", "https://example.com/x"),
    ("https://example.com:443/", "https://example.com/"),
    ("http://example.com:8080/", "http://example.com:8080/"),
    ("mailto:someone@example.com", "mailto:someone@example.com"),
    ("MAILTO:someone@example.com?subject=hi there", "mailto:someone@example.com?subject=hi%20there"),
    ("mailto:someone@example.com#top", "mailto:someone@example.com"),  # a fragment, not the domain's
    ("mailto:someone@example.com#top?subject=x", "mailto:someone@example.com"),
    ("mailto:some#one@example.com", "mailto:some%23one@example.com"),  # '#' may be in a local part
    ("mailto:someone@example.com?body=issue #4", "mailto:someone@example.com?body=issue%20%234"),
    ("tel:+1 (555) 010-0100", "tel:+15550100100"),
    ("tel:+34600000000", "tel:+34600000000"),
    ("bücher.de", "https://xn--bcher-kva.de/"),
    ("https://münchen.example/straße", "https://xn--mnchen-3ya.example/stra%C3%9Fe"),
    # Hosts as browsers resolve them (UTS 46 non-transitional, IDNA 2008), not IDNA 2003's ß → ss.
    ("https://straße.de/", "https://xn--strae-oqa.de/"),
    ("faß.de/x", "https://xn--fa-hia.de/x"),
    ("https://βόλος.com/", "https://xn--nxasmm1c.com/"),  # final sigma kept, not turned into σ
    ("https://ÉXAMPLE.com/", "https://xn--xample-9ua.com/"),
    ("https://ｅｘａｍｐｌｅ．ｃｏｍ/", "https://example.com/"),  # full-width letters and dot mapped
    ("https://xn--strae-oqa.de/", "https://xn--strae-oqa.de/"),
    ("https://r3---sn-abc.video.example/", "https://r3---sn-abc.video.example/"),  # ASCII labels as they are
]
REFUSED = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\u00a0javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    "\x00javascript:alert(1)",
    "javascript://example.com/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "ftp://example.com/",
    "file:///etc/passwd",
    "user:pass@host.example",
    "https://user:pass@example.com/",
    "https://user@example.com/",
    "https://",
    "https:/example.com",
    "https://exa mple.com/",
    "",
    "   ",
    "mailto:",
    "mailto:not-an-address",
    "https://example.com:0/",
    "tel:call-me",
    "https://a\u200db.example/",  # a zero-width joiner outside the scripts that need it
    "https://xn--zz.example/",  # not valid Punycode
    "https://xn--ss-.example/",
    "https://a..b.example/",  # an empty label
    "https://\u0301a.example/",  # a label starting with a combining mark
    "https://☃.example/",  # a symbol IDNA 2008 does not allow
]


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_accepted_urls_are_normalised(raw: str, expected: str) -> None:
    assert normalise_url(raw) == expected


@pytest.mark.parametrize("raw", REFUSED)
def test_refused_urls_say_why(raw: str) -> None:
    with pytest.raises(UnsafeURL) as refused:
        normalise_url(raw)
    assert str(refused.value)


@pytest.mark.parametrize(
    "raw",
    [
        "\u200bjavascript:alert(1)",
        "ｊavascript:alert(1)",
        "javascript&colon;alert(1)",
        "jav&#x09;ascript:alert(1)",
        "%6A%61vascript:alert(1)",
        "\\\\evil.example\\x",
    ],
)
def test_anything_accepted_has_an_allowed_scheme(raw: str) -> None:
    """Obfuscations may be refused or turned into a harmless https URL, never kept as a script."""
    try:
        url = normalise_url(raw)
    except UnsafeURL:
        return
    assert url.split(":", 1)[0] in ALLOWED_SCHEMES
    assert url.startswith(("https://", "http://"))


def test_the_api_stores_normalised_urls_and_refuses_unsafe_ones(alice: Account) -> None:
    for raw, expected in ACCEPTED:
        response = alice.api("POST", "/api/add/link", {"title": "ok", "url": raw})
        assert response.status_code == 201, (raw, response.get_json())
        created = response.get_json()
        assert created["url"] == expected
        edited = alice.api("PUT", f"/api/edit/link/{created['id']}", {"url": raw}).get_json()
        assert edited["url"] == expected
        alice.api("DELETE", f"/api/delete/link/{created['id']}")  # stay under the free plan's limit
    alice.add_link("ok", "https://kept.example/")
    stored = {link["url"] for link in alice.links()}
    for raw in REFUSED:
        response = alice.api("POST", "/api/add/link", {"title": "bad", "url": raw})
        assert response.status_code == 422, (raw, response.status_code)
        assert response.get_json()["error"]["field"] == "url"
        edit = alice.api("PUT", f"/api/edit/link/{alice.links()[0]['id']}", {"url": raw})
        assert edit.status_code == 422, (raw, edit.status_code)
    assert {link["url"] for link in alice.links()} == stored
    assert all(link["title"] == "ok" for link in alice.links())


def test_ipv6_literal_hosts_are_kept_in_brackets() -> None:
    assert normalise_url("http://[2001:DB8::1]:8080/x") == "http://[2001:db8::1]:8080/x"
    assert normalise_url("https://[::1]:443/") == "https://[::1]/"
    with pytest.raises(UnsafeURL):
        normalise_url("http://[not:an:address]/")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://0177.0.0.1/x", "http://127.0.0.1/x"),
        ("http://2130706433", "http://127.0.0.1/"),
        ("http://127.1", "http://127.0.0.1/"),
        ("https://www.0x.example", "https://www.0x.example/"),
    ],
)
def test_numeric_hosts_are_stored_as_the_address_a_browser_connects_to(raw: str, stored: str) -> None:
    assert normalise_url(raw) == stored


@pytest.mark.parametrize("raw", ["http://1.2.3.4.5", "http://256.0.0.1", "http://1.2.3.09", "http://shop.0x"])
def test_numeric_hosts_no_browser_accepts_are_refused(raw: str) -> None:
    with pytest.raises(UnsafeURL, match="not a valid host name or IPv4 address"):
        normalise_url(raw)


@pytest.mark.parametrize("host", ["a_b" * 1000, "1." * 1000 + "x9", "[" + ":" * 2000 + "]"])
def test_a_refused_host_is_repeated_in_its_error_cut_short(host: str) -> None:
    with pytest.raises(UnsafeURL) as refused:
        normalise_url(f"https://{host}/")
    assert len(str(refused.value)) < 200 and "…" in str(refused.value)


def test_a_mailto_to_several_addresses_is_told_to_use_cc() -> None:
    with pytest.raises(UnsafeURL, match="writes to one address; put the others in cc="):
        normalise_url("mailto:a@x.example,b@y.example")
    assert normalise_url("mailto:a@x.example?cc=b@y.example") == "mailto:a@x.example?cc=b@y.example"


def test_an_email_address_typed_as_a_url_is_told_to_write_mailto(alice: Account) -> None:
    """ "ana@example.org" was refused as "a URL with a user name or password", which names no fix."""
    response = alice.api("POST", "/api/add/link", {"title": "Mail me", "url": " ana@example.org "})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["field"], error["code"]) == ("url", "unsafe_url")
    assert error["message"] == "this looks like an e-mail address: write it as mailto:ana@example.org"
    assert alice.links() == []
    # Where a mailto: address is not allowed, it says so; with a scheme or a path, it is not an address.
    with pytest.raises(UnsafeURL, match="^this looks like an e-mail address, not a web address$"):
        normalise_url("ana@example.org", schemes=("https",))
    for raw in ["https://ana@example.org/", "ana@example.org/x", "ana@localhost"]:
        with pytest.raises(UnsafeURL, match="user name or password"):
            normalise_url(raw)
