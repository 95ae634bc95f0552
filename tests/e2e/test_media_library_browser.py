"""The media library in Chromium on a phone, JavaScript off: upload an image and a PDF, copy the snippet,
download the PDF, and every page fits the screen."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.app.media_library_support import one_page_pdf, photo_with_exif
from tests.support.live_server import LiveServer

from .conftest import PageFactory, set_up_site
from .test_operator import fits_the_screen


def test_upload_an_image_and_a_pdf_on_a_phone(
    new_page: PageFactory, live_server: LiveServer, tmp_path: Path
) -> None:
    phone = new_page(phone=True, java_script_enabled=False, accept_downloads=True)
    set_up_site(phone, live_server)
    phone.get_by_role("navigation", name="Admin").get_by_role("link", name="Media").click()
    expect(phone.get_by_role("heading", name="Media library")).to_be_visible()
    assert fits_the_screen(phone)

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(photo_with_exif())
    phone.get_by_label("Image (PNG, JPEG, WebP, GIF) or PDF").set_input_files(str(photo))
    phone.get_by_role("button", name="Upload").click()
    expect(phone.get_by_text("Describe the image in the alt text")).to_be_visible()
    phone.get_by_label("Image (PNG, JPEG, WebP, GIF) or PDF").set_input_files(str(photo))
    phone.get_by_label("Alt text (required for images)").fill("A red wall")
    phone.get_by_role("button", name="Upload").click()
    expect(phone.get_by_text("photo.jpg is in the library.")).to_be_visible()
    expect(phone.get_by_label("Markdown (paste into a page's text)")).to_have_value(
        __import__("re").compile(r"^!\[A red wall\]\(/media/library/[0-9a-f]{32}-720\.webp\)$")
    )
    preview = phone.get_by_role("img", name="A red wall")
    expect(preview).to_be_visible()
    # Visible means laid out (the tag carries its size), not yet fetched: wait for the decode.
    assert preview.evaluate("image => image.decode().then(() => image.naturalWidth)") == 360
    assert fits_the_screen(phone)

    document = tmp_path / "Price list é.pdf"
    document.write_bytes(one_page_pdf())
    phone.get_by_role("link", name="Media library").click()
    phone.get_by_label("Image (PNG, JPEG, WebP, GIF) or PDF").set_input_files(str(document))
    phone.get_by_role("button", name="Upload").click()
    with phone.expect_download() as started:
        phone.get_by_role("link", name="Download Price list é.pdf").click()
    download = started.value
    assert download.suggested_filename == "Price list é.pdf"
    assert Path(download.path()).read_bytes() == one_page_pdf()
    phone.get_by_role("link", name="Media library").click()
    expect(phone.get_by_role("img", name="A red wall")).to_be_visible()
    expect(phone.get_by_text("2 items")).to_be_visible()
    assert fits_the_screen(phone)
