"""An image chosen on a settings form beside other fields (the profile's avatar, the appearance's
background): read before the form is decided, stored only once all of it is accepted.

Read only when it was stored, after the other fields were checked, a bad file took a second round: the
first answer named the other fields, the next one the image. Decoded and re-encoded first
(:func:`~conexoos.app.utils.io.encode_upload`), its problem is named with every other one; on an accepted
save the WebP made then is what is stored (:meth:`~conexoos.app.utils.io.IOUtils.store`), so the upload is
decoded once, and only its re-encoded bytes are kept while the rest of the form is checked.

A form drawn again (refused, or previewed) cannot hold the file chosen: a browser never fills a file input.
Unless the image itself was refused, :func:`not_kept_note` says so under its field, in the same words on
every such form.
"""

from __future__ import annotations

from dataclasses import dataclass

from .expired_form import sent_file
from .io import EncodedImage, InvalidImage, Upload, encode_upload

NOT_KEPT = "The image you chose was not kept: choose it again before you save."
"""Under the image's field of a form drawn again after a file was chosen (see the module's note)."""


@dataclass(frozen=True)
class ChosenImage:
    """The file chosen: ``image`` re-encoded and ready to store, or ``problem`` saying why it is refused;
    neither when no file was chosen."""

    image: EncodedImage | None = None
    problem: str = ""

    def errors(self, field: str) -> dict[str, str]:
        """``{field: problem}`` when the file is refused, else nothing: to join a form's other problems."""
        return {field: self.problem} if self.problem else {}


NOTHING_CHOSEN = ChosenImage()


def read_chosen_image(upload: Upload | None, folder: str) -> ChosenImage:
    """``upload`` decoded and re-encoded for ``folder`` (not stored), or the reason it is refused."""
    if upload is None or not upload.filename:
        return NOTHING_CHOSEN
    try:
        return ChosenImage(image=encode_upload(upload, folder))
    except InvalidImage as refused:  # a problem of the form, told with its other ones
        return ChosenImage(problem=str(refused))


def not_kept_note(image_refused: bool) -> str:
    """:data:`NOT_KEPT` when the form about to be drawn again had a file chosen, else "". Nothing when
    ``image_refused``: its refusal is said under the field instead. A note, not a problem of the form: it
    marks the field but takes no focus (``templates/_field.html``) and no summary counts it."""
    return NOT_KEPT if sent_file() and not image_refused else ""
