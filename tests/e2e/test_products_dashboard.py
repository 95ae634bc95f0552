"""The products dashboard in Chromium: add, edit in place, drag into order, move with the keyboard.

Every change is checked three ways: in the dashboard's list, in ``GET /api/products`` (what the server
kept) and on the public page a visitor sees.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from conexoos.app.models.persistent import User
from conexoos.framework import db
from tests.support.live_server import LiveServer

from .conftest import PageFactory
from .test_core_flow import assert_fits_phone, drag, sign_up

PRODUCTS = "#products"
REORDER = "/api/products/reorder"


def add_product(page: Page, title: str, price: str, currency: str, buy_url: str) -> None:
    """Add a product through the dashboard's form and wait until the list shows it."""
    form = page.locator("#add-product")
    expect(page.locator(PRODUCTS)).not_to_have_attribute("aria-busy", "true")  # the rows it has are drawn
    count = items(page).count()
    form.get_by_label("Title").fill(title)
    form.get_by_label("Price").fill(price)
    form.get_by_label("Currency").fill(currency)
    form.get_by_label("Buy link").fill(buy_url)
    with page.expect_response(lambda response: response.url.endswith("/api/add/product")) as answer:
        form.get_by_role("button", name="Add product").click()
    assert answer.value.status == 201, answer.value.text()
    expect(items(page)).to_have_count(count + 1)
    expect(page.locator("#product-error")).to_have_text("")


def items(page: Page) -> Locator:
    return page.locator(f"{PRODUCTS} .product-item")


def item(page: Page, title: str) -> Locator:
    return items(page).filter(has=page.locator(".link-title", has_text=title))


def expect_titles(page: Page, titles: list[str]) -> None:
    """The dashboard lists ``titles`` in this order, once its script has drawn the last answer (Playwright
    retries until then: the response arrives before the list is redrawn)."""
    expect(page.locator(f"{PRODUCTS} .link-title")).to_have_text(titles)


def api_products(page: Page, live: LiveServer) -> list[dict[str, Any]]:
    response = page.request.get(f"{live.url}/api/products", headers={"Accept": "application/json"})
    assert response.status == 200, response.text()
    return response.json()  # type: ignore[no-any-return]


def public_cards(page: Page, live: LiveServer, username: str) -> list[list[str]]:
    """Each product card on the public page as [title, description?, price], top to bottom."""
    page.goto(f"{live.url}/{username}")
    cards = page.locator(".products .product")
    return [card.locator("span").all_inner_texts() for card in cards.all()]


def test_products_are_edited_in_place_and_dragged_into_order(
    live_server: LiveServer, new_page: PageFactory, snapshot: Callable[[Page, str], Path | None]
) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "mary.shop")
    page.goto(f"{live.url}/dashboard/products")
    expect(page.get_by_role("heading", name="Your products")).to_be_visible()

    add_product(page, "E-book", "12.50", "EUR", "https://shop.example/ebook")
    add_product(page, "Poster", "1000", "JPY", "https://shop.example/poster")

    # A price the currency cannot hold is refused in the page, before anything is sent.
    form = page.locator("#add-product")
    form.get_by_label("Title").fill("Course")
    form.get_by_label("Price").fill("49.999")
    form.get_by_label("Currency").fill("usd")
    form.get_by_label("Buy link").fill("https://shop.example/course")
    form.get_by_role("button", name="Add product").click()
    price = form.get_by_label("Price")  # said under Price, which gets the focus
    expect(price).to_have_accessible_description("USD prices have at most 2 decimals.")
    expect(price).to_be_focused()
    assert len(api_products(page, live)) == 2
    add_product(page, "Course", "49", "usd", "https://shop.example/course")
    expect_titles(page, ["E-book", "Poster", "Course"])

    # Edit every field of the poster in place.
    poster = item(page, "Poster")
    poster.get_by_role("button", name="Edit").click()
    editor = poster.locator("form.link-edit")
    expect(editor).to_be_visible()
    expect(editor.get_by_label("Title")).to_be_focused()
    snapshot(page, "editing")
    expect(editor.get_by_label("Price")).to_have_value("1000")  # JPY has no minor unit
    editor.get_by_label("Title").fill("Signed poster")
    editor.get_by_label("Price").fill("1200")
    editor.get_by_label("Buy link").fill("https://shop.example/signed-poster")
    editor.get_by_label("Description").fill("A2, signed by the artist.")
    with page.expect_response(lambda response: "/api/edit/product/" in response.url) as answer:
        editor.get_by_role("button", name="Save").click()
    assert answer.value.status == 200, answer.value.text()
    expect(item(page, "Signed poster").locator("form.link-edit")).to_be_hidden()
    expect_titles(page, ["E-book", "Signed poster", "Course"])

    # A buy link the server refuses: its message shows next to the field, which gets focus; nothing changes.
    ebook = item(page, "E-book")
    ebook.get_by_role("button", name="Edit").click()
    ebook.locator("form.link-edit").get_by_label("Buy link").fill("javascript:alert(1)")
    with page.expect_response(lambda response: "/api/edit/product/" in response.url) as answer:
        ebook.get_by_role("button", name="Save").click()
    assert answer.value.status == 422
    ebook_form = ebook.locator("form.link-edit")
    expect(ebook_form.locator(".field-error")).to_contain_text("The javascript: scheme is not allowed")
    expect(ebook_form.get_by_label("Buy link")).to_be_focused()
    ebook.get_by_role("button", name="Cancel").click()
    expect(ebook.locator("form.link-edit")).to_be_hidden()
    expect(ebook.locator("form.link-edit").get_by_label("Buy link")).to_have_value(
        "https://shop.example/ebook"
    )

    # Two drags that together reverse the list, so no single move or no move could pass.
    drag(page, "Course", onto="E-book", side="above", list_selector=PRODUCTS, reorder_path=REORDER)
    expect_titles(page, ["Course", "E-book", "Signed poster"])
    drag(page, "E-book", onto="Signed poster", side="below", list_selector=PRODUCTS, reorder_path=REORDER)
    expect_titles(page, ["Course", "Signed poster", "E-book"])

    # The arrows work from the keyboard, and the focus stays on the product that moved.
    move_down = item(page, "Course").get_by_role("button", name="Move product Course down")
    move_down.focus()
    with page.expect_response(lambda response: response.url.endswith(REORDER)) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200, answer.value.text()
    expected = ["Signed poster", "Course", "E-book"]
    expect_titles(page, expected)
    expect(item(page, "Course").get_by_role("button", name="Move product Course down")).to_be_focused()

    # An image chosen in the page is uploaded, re-encoded by the server, and replaces the placeholder.
    cover = io.BytesIO()
    Image.new("RGB", (120, 80), "teal").save(cover, format="PNG")
    file = {"name": "cover.png", "mimeType": "image/png", "buffer": cover.getvalue()}
    with page.expect_response(lambda response: response.url.endswith("/image")) as answer:
        item(page, "E-book").locator('input[type="file"]').set_input_files(files=[file])
    assert answer.value.status == 200, answer.value.text()
    image_url = answer.value.json()["image_url"]
    assert image_url.endswith(".webp") and "default_product" not in image_url
    expect(item(page, "E-book").locator("img.thumb")).to_have_attribute("src", image_url)

    kept = api_products(page, live)
    assert [product["title"] for product in kept] == expected
    poster_json = kept[0]
    assert (poster_json["price"], poster_json["currency"]) == (1200, "JPY")
    assert poster_json["buy_url"] == "https://shop.example/signed-poster"
    assert poster_json["description"] == "A2, signed by the artist."
    assert kept[2]["buy_url"] == "https://shop.example/ebook"

    page.reload()
    expect(items(page)).to_have_count(3)
    expect_titles(page, expected)

    visitor = new_page()
    assert public_cards(visitor, live, "mary.shop") == [
        ["Signed poster", "A2, signed by the artist.", "¥1,200"],
        ["Course", "$49.00"],
        ["E-book", "€12.50"],
    ]
    assert visitor.locator(".products .product img").last.get_attribute("src") == image_url


def test_products_page_and_its_editor_fit_a_phone(
    live_server: LiveServer, new_page: PageFactory, snapshot: Callable[[Page, str], Path | None]
) -> None:
    live = live_server
    phone = new_page(phone=True)
    sign_up(phone, live, "phone.shop")
    phone.goto(f"{live.url}/dashboard/products")
    long_url = f"https://shop.example/{'a-very-long-product-path-' * 6}end?ref=conexoos"
    add_product(
        phone, "The complete illustrated field guide to every mushroom of Europe", "39.90", "EUR", long_url
    )
    add_product(phone, long_url[:100], "5", "GBP", long_url)
    first = items(phone).first
    first.get_by_role("button", name="Edit").click()
    expect(first.locator("form.link-edit")).to_be_visible()

    assert_fits_phone(phone, "the products dashboard with an editor open")
    overflowing = items(phone).evaluate_all(
        "items => items.filter(item => item.scrollWidth > item.clientWidth).map(item => item.dataset.id)"
    )
    assert overflowing == [], f"products {overflowing} stick out of their cards"
    snapshot(phone, "editing")

    phone.goto(f"{live.url}/phone.shop")
    expect(phone.locator(".products .product")).to_have_count(2)
    assert_fits_phone(phone, "the public page with products")
    snapshot(phone, "public")


def set_plan(live: LiveServer, username: str, plan: str) -> None:
    """Change a user's plan in the database, as a webhook would (the billing flow has its own test)."""
    with live.app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        user.subscription_plan = plan
        db.session.commit()


def test_products_past_the_plan_limit_are_marked_as_not_on_the_page(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "over.limit")
    set_plan(live, "over.limit", "pro")
    page.goto(f"{live.url}/dashboard/products")
    for number in range(1, 5):
        add_product(page, f"Item {number}", "1", "EUR", f"https://shop.example/{number}")
    expect(page.locator(f"{PRODUCTS} .plan-note:visible")).to_have_count(0)

    set_plan(live, "over.limit", "gratis")  # Gratis shows 3 products: the fourth is kept, not shown
    page.reload()
    expect(items(page)).to_have_count(4)

    marked = items(page).filter(has=page.locator(".plan-note:visible")).locator(".link-title")
    expect(marked).to_have_text(["Item 4"])
    expect(item(page, "Item 4").locator(".plan-note")).to_contain_text("your plan Gratis shows 3 products")
    assert [card[0] for card in public_cards(new_page(), live, "over.limit")] == [
        "Item 1",
        "Item 2",
        "Item 3",
    ]

    # The same rule as the public page: moving the fourth up pushes the third out...
    drag(page, "Item 4", onto="Item 1", side="above", list_selector=PRODUCTS, reorder_path=REORDER)
    expect(marked).to_have_text(["Item 3"])
    # ...and hiding one brings it back.
    with page.expect_response(lambda response: "/api/edit/product/" in response.url):
        item(page, "Item 1").get_by_role("button", name="Hide").click()
    expect(marked).to_have_count(0)
    assert [card[0] for card in public_cards(new_page(), live, "over.limit")] == [
        "Item 4",
        "Item 2",
        "Item 3",
    ]


def test_a_price_the_page_cannot_read_is_shown_under_price_and_a_decimal_comma_is_read(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """A price typed wrong ("abc", "1e3") is explained under Price, which is marked invalid and focused, as
    a bad currency is under Currency; "12,50" reads as 12.50, as the page layout's product block reads it."""
    live = live_server
    page = new_page()
    sign_up(page, live, "comma.shop")
    page.goto(f"{live.url}/dashboard/products")
    form = page.locator("#add-product")
    expect(page.locator(PRODUCTS)).not_to_have_attribute("aria-busy", "true")
    form.get_by_label("Title").fill("Zine")
    form.get_by_label("Currency").fill("EUR")
    form.get_by_label("Buy link").fill("https://shop.example/zine")
    price = form.get_by_label("Price")
    for typed in ["abc", "1e3"]:
        price.fill(typed)
        form.get_by_role("button", name="Add product").click()
        expect(price).to_have_attribute("aria-invalid", "true")
        expect(price).to_have_accessible_description("Enter a price like 12.50 (or 12,50).")
        expect(price).to_be_focused()
        expect(page.locator("#product-error")).to_have_text("")
    assert api_products(page, live) == []

    # A currency without decimals says so under Price, too.
    form.get_by_label("Currency").fill("JPY")
    price.fill("12,5")
    form.get_by_role("button", name="Add product").click()
    expect(price).to_have_accessible_description("JPY prices have no decimals.")
    expect(price).to_be_focused()

    add_product(page, "Zine", "12,50", "EUR", "https://shop.example/zine")
    add_product(page, "Print", "1250", "JPY", "https://shop.example/print")
    expect(price).not_to_have_attribute("aria-invalid", "true")
    kept = [(product["price"], product["currency"]) for product in api_products(page, live)]
    assert kept == [(1250, "EUR"), (1250, "JPY")]
