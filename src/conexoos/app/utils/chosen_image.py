"""An image chosen on a settings form beside other fields (the profile's avatar, the appearance's
background): read before the form is decided, stored only once all of it is accepted.

Read only when it was stored, after the other fields were checked, a bad file took a second round: the
first answer named the other fields, the next one the image. Decoded and re-encoded first
(:func:`~conexoos.app.utils.io.encode_upload`), its problem is named with every other one; on an accepted
save the WebP made then is what is stored (:meth:`~conexoos.app.utils.io.IOUtils.store`), so the upload is
decoded once, and only its re-encoded bytes are kept while the rest of the form is checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from .io import EncodedImage, InvalidImage, Upload, encode_upload


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
