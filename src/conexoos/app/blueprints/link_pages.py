"""The page shown for a link from a mail that cannot be used (expired, used, garbled): never a 500."""

from __future__ import annotations

from flask import render_template

from conexoos.app.controllers.tokens import TokenError


def link_problem(
    error: TokenError, retry_endpoint: str, retry_label: str = "Ask for a new one"
) -> tuple[str, int]:
    """410 for a link that was good once (expired, used, its account deleted), 400 for one that never was;
    with a way on (signing up, when the account is gone: there is nothing to ask for again)."""
    if error.account_gone:
        retry_endpoint, retry_label = "accounts.signup", "Sign up"
    status = 410 if error.expired else 400
    page = render_template(
        "accounts/link_problem.html", message=str(error), retry=retry_endpoint, retry_label=retry_label
    )
    return page, status
