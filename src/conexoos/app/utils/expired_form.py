"""A settings form sent with a stale security token, shown again with what was typed instead of a 400 page.

Logged out and in again from another tab, a page left open holds a token of the earlier session: its Save
was refused with a bare page, and the text typed on it was lost. For the plain settings forms (profile,
appearance) the page is shown again with the posted text, a fresh token and a message to check and save
again; nothing is saved. Only when the person is logged in, the token is merely stale (expired, or of
another session of theirs), and the post came from this site's own page: a forged post from another site
must not become a filled form one click away from saving.
"""

from __future__ import annotations

from flask import flash, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from conexoos.app.utils.same_origin import is_same_origin_post
from conexoos.framework.urls import public_url

STALE_REASONS = frozenset(
    {"The CSRF tokens do not match.", "The CSRF token has expired.", "The CSRF session token is missing."}
)
"""Flask-WTF's reasons for a token that was good on an earlier page of theirs (``framework/csrf.py``): of
another session, too old, or sent to a new session that holds no secret yet (logged in again, and no page
since made a token)."""
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
EXPIRED = (
    "This page had expired: its security token was of an earlier login (you logged in again, perhaps in "
    "another tab), so nothing was saved. Check the form below and Save again."
)
FILE_AGAIN = " Choose the file again: it was not kept."


def may_show_again(error: CSRFError) -> bool:
    """Whether the refused post may be answered with its form filled again (see the module's note)."""
    return (
        request.method == "POST"
        and current_user.is_authenticated
        and error.description in STALE_REASONS
        and request.mimetype in FORM_TYPES
        and is_same_origin_post(request.headers, public_url())
    )


def sent_file() -> bool:
    """Whether the post carried a chosen file: a page drawn again cannot hold it (a browser never fills a
    file input), so it must be chosen again."""
    return any(upload.filename for upload in request.files.values())


def say_expired() -> None:
    """Flash the message of a form shown again (the page about to be drawn shows it)."""
    flash(EXPIRED + (FILE_AGAIN if sent_file() else ""))
