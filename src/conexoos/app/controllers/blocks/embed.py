"""The embed kind: a YouTube, Vimeo, Spotify or SoundCloud URL drawn as a card that links out.

The page makes no request to the provider: the card is a plain link. With JavaScript on, a click on the
card swaps in the provider's player (``static/js/embed.js``) from its privacy-friendly address (YouTube's
``youtube-nocookie.com``, Vimeo with ``dnt=1``); the Content-Security-Policy's ``frame-src`` allows
exactly the hosts in ``utils.players.PLAYER_HOSTS``. An embed whose host the operator blocks later holds
``"blocked": true`` (``controllers/blocklist.py``) and is left out of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conexoos.app.dto.errors import InputError
from conexoos.app.dto.fields import Field, text
from conexoos.app.dto.links import URL_MAX, url_field
from conexoos.app.models.persistent import PageBlock, Product, UserLink
from conexoos.app.models.public_page import ShownLink, ShownProduct
from conexoos.app.utils.players import named_port, recognise, upgraded

from .kind import HIDDEN_BY_STAFF, BlockFields, with_blocked_flag
from .simple import SimpleKind


def embed_url_field() -> Field:
    """An https URL of a video or a track on YouTube, Vimeo, Spotify or SoundCloud, at the provider's own
    address (no port of its own)."""
    plain = url_field("url")

    def parse(value: Any, field: Field) -> str:
        url = upgraded(plain.parse(value, plain))
        port = named_port(url)
        if port:
            raise InputError(
                f"url names the port {port}: use the provider's own address, without a port",
                field="url",
                code="embed_port",
            )
        if recognise(url) is None:
            raise InputError(
                "url must be a link to a video or track on YouTube, Vimeo, Spotify or SoundCloud",
                field="url",
                code="embed_provider",
            )
        return url

    schema = {"type": "string", "format": "uri", "maxLength": URL_MAX, "pattern": "^https?://"}
    return Field("url", schema, parse, True, "A YouTube, Vimeo, Spotify or SoundCloud link")


class EmbedKind(SimpleKind):
    """An embed: the URL and an optional title, its player worked out from the URL when shown."""

    script = "js/embed.js"
    keeps_addresses = True

    def addresses(self, fields: dict[str, Any]) -> list[tuple[str, str]]:
        """The embed's URL."""
        url = fields.get("url")
        return [("url", url)] if isinstance(url, str) else []

    def flagged(self, fields: dict[str, Any], blocked: Callable[[str, bool], bool]) -> dict[str, Any]:
        """The fields with ``"blocked": true`` when ``blocked`` says so (no key otherwise)."""
        return with_blocked_flag(fields, blocked) if isinstance(fields.get("url"), str) else fields

    def shown(self, block: BlockFields, link: ShownLink | None, product: ShownProduct | None) -> Any:
        """The fields with the ``player`` (None hides a block whose URL is no longer recognised or is on
        the blocklist)."""
        fields = block.fields
        if fields.get("blocked") or fields.get(HIDDEN_BY_STAFF):
            return None
        player = recognise(str(fields.get("url", "")))
        return None if player is None else {**fields, "player": player}

    hideable = True

    def hidden(self, fields: dict[str, Any], item: int | None) -> dict[str, Any]:
        """The fields, the embed hidden by a moderator. ValueError with an ``item`` (an embed is hidden
        whole)."""
        if item is not None:
            raise ValueError("An embed is hidden whole: send no icon number.")
        if fields.get(HIDDEN_BY_STAFF):
            raise ValueError("That embed is hidden already: choose another action.")
        return {**fields, HIDDEN_BY_STAFF: True}

    def hidden_on_account(self, fields: dict[str, Any], hidden: Callable[[str], bool]) -> dict[str, Any]:
        """The fields, the embed hidden by a moderator when its address was hidden on the account."""
        url = fields.get("url")
        return {**fields, HIDDEN_BY_STAFF: True} if isinstance(url, str) and hidden(url) else fields

    def fields_json(self, block: PageBlock, link: UserLink | None, product: Product | None) -> dict[str, Any]:
        """The fields, ``enabled`` and the provider's name."""
        player = recognise(str(block.fields.get("url", "")))
        return {**super().fields_json(block, link, product), "provider": player.provider if player else None}


EMBED = EmbedKind(
    "embed",
    "embed",
    "embeds",
    (
        embed_url_field(),
        text("title", 100, allow_empty=True, description="Shown on the card (default: the provider's name)"),
    ),
    limit=20,
    summary="A video or a track, drawn as a card; the player loads only when the visitor asks.",
)
