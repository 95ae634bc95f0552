"""What the OpenID Connect tests share: the provider's clients and accounts, a validated provider entry,
and a person logging in at the provider's form with plain HTTP (requests)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import requests

from conexoos.framework.logins.oidc import PROVIDER_SCHEMA
from conexoos.framework.schema import Key

CLIENT_SECRET = "conexoos-test-client-secret-" + "s" * 24
ALICE = {
    "sub": "alice-sub-1",
    "username": "alice",
    "password": "alice in wonderland",
    "claims": {
        "preferred_username": "alice",
        "email": "alice@example.org",
        "email_verified": True,
        "name": "Alice Liddell",
        "groups": ["staff", "conexoos-admins"],
    },
}
BOB = {
    "sub": "bob-sub-2",
    "username": "bob",
    "password": "bob the builder",
    "claims": {
        "preferred_username": "bob",
        "email": "bob@example.org",
        "email_verified": False,
        "name": "Bob Builder",
        "groups": ["staff"],
    },
}
CAROL = {
    "sub": "carol-sub-3",
    "username": "carol",
    "password": "carol singer",
    "claims": {"preferred_username": "carol", "email": "carol@example.org"},
}
ACCOUNTS = [ALICE, BOB, CAROL]
_FORM_ACTION = re.compile(r'action="(/interaction/[^"]+/(login|abort))"')


def provider_entry(**values: Any) -> dict[str, Any]:
    """A ``LOGINS.oidc.<name>`` entry as validation leaves it: every key at its default, then ``values``."""
    entry = {name: key.default for name, key in PROVIDER_SCHEMA.items() if isinstance(key, Key)}
    entry.update(values)
    return entry


def client(client_id: str, redirect_uris: list[str], public_url: str, **metadata: Any) -> dict[str, Any]:
    """A client of the test provider: client_secret_basic with CLIENT_SECRET unless ``metadata`` says
    otherwise (a private_key_jwt client has its public ``jwks`` and no secret)."""
    entry = {
        "client_id": client_id,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": [public_url + "/"],
        "token_endpoint_auth_method": "client_secret_basic",
        **metadata,
    }
    if entry["token_endpoint_auth_method"] == "private_key_jwt":
        del entry["client_secret"]
    return entry


class ProviderBrowser:
    """A person at the provider: opens the authorization URL, fills the login form (or cancels), and
    follows the provider's redirects until they leave it for ``public_url``."""

    def __init__(self, public_url: str) -> None:
        self.public_url = public_url
        self.http = requests.Session()

    def log_in(self, authorization_url: str, username: str, password: str) -> str:
        """The URL the provider sends the browser back to (the callback, with code and state)."""
        return self._submit(authorization_url, "login", {"login": username, "password": password})

    def cancel(self, authorization_url: str) -> str:
        """The callback URL after pressing "Cancel" on the provider's form (error=access_denied)."""
        return self._submit(authorization_url, "abort", {})

    def _submit(self, authorization_url: str, action: str, form: dict[str, str]) -> str:
        page = self.http.get(authorization_url, timeout=10)
        assert page.status_code == 200, page.text
        actions = {kind: path for path, kind in _FORM_ACTION.findall(page.text)}
        answer = self.http.post(
            urljoin(page.url, actions[action]), data=form, allow_redirects=False, timeout=10
        )
        return self.follow(answer)

    def follow(self, answer: requests.Response) -> str:
        """Follow redirects within the provider; return the first URL outside it."""
        for _ in range(10):
            assert answer.status_code in (302, 303), (answer.status_code, answer.text[:500])
            location = urljoin(answer.url, answer.headers["Location"])
            if location.startswith(self.public_url):
                return location
            answer = self.http.get(location, allow_redirects=False, timeout=10)
        raise AssertionError("the provider redirected too many times")
