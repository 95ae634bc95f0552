"""The capture kind: an email sign-up form (a prompt, a name and an address) posted to Conexoos.

The block keeps its prompt and its button's label; what visitors give is kept as entries
(``controllers/capture_entries.py``), limited by the plan's ``MAX_CAPTURE_ENTRIES``.
"""

from __future__ import annotations

from typing import Any

from conexoos.app.dto.fields import text
from conexoos.app.models.persistent import PageBlock, Product, UserLink
from conexoos.app.models.public_page import ShownLink, ShownProduct

from .kind import BlockFields
from .simple import SimpleKind

CAPTURE_LIMIT = 5
"""Sign-up forms one page may hold (on every plan): the entries are what the plan limits."""
TITLE_MAX = 100
BUTTON_MAX = 40
DEFAULT_BUTTON = "Sign up"


class CaptureKind(SimpleKind):
    """A sign-up form: its fields, and its block's id, which the form posts to."""

    def shown(self, block: BlockFields, link: ShownLink | None, product: ShownProduct | None) -> Any:
        """The fields, the button's label (its default when empty) and the block's ``id``."""
        return {**block.fields, "button": block.fields.get("button") or DEFAULT_BUTTON, "id": block.id}

    def fields_json(self, block: PageBlock, link: UserLink | None, product: Product | None) -> dict[str, Any]:
        """The fields and ``enabled``; ``button`` is "" when the default label is shown."""
        return {"button": "", **super().fields_json(block, link, product)}


CAPTURE = CaptureKind(
    "capture",
    "email sign-up form",
    "email sign-up forms",
    (
        text("title", TITLE_MAX, required=True, description="The prompt above the form; trimmed"),
        text(
            "button",
            BUTTON_MAX,
            allow_empty=True,
            description=f'The button\'s label (default "{DEFAULT_BUTTON}")',
        ),
    ),
    limit=CAPTURE_LIMIT,
    summary="An email sign-up form: visitors leave a name and an address (confirmed by mail with SMTP).",
)
