"""Home (blog posts, badge), a post, the blog editor, and Spark AI's cited answers, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from opkalla_portal.demo.seed import post_published_on
from tests.conftest import TODAY, long_date
from tests.e2e.conftest import axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
LUIS = "luis.ortega@lakesidedental.onmicrosoft.com"
RILEY = "riley.morgan@opkalla.onmicrosoft.com"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shots(page, name: str) -> None:
    for label, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=f"screenshots/{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_home_shows_posts_and_badge_then_a_post(page, context, base_url, console_errors):
    sign_in_as(context, base_url, DANA)
    page.set_viewport_size(DESKTOP)
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="Microsoft Solutions Partner for Modern Work")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Microsoft Solutions Partner for Modern Work"))).to_be_visible()
    posts = page.get_by_role("heading", level=3)
    expect(posts).to_have_count(4)
    expect(posts.first).to_have_text("Microsoft 365 Copilot is now within reach for small practices")
    expect(page.get_by_text(long_date(post_published_on(0, TODAY)))).to_be_visible()
    expect(page.get_by_role("link", name="Manage posts")).to_have_count(0)  # customers don't edit
    assert axe_violations(page) == []
    _shots(page, "home")

    page.get_by_role("link", name=re.compile("New Commerce: when you can lower seat counts")).click()
    expect(page).to_have_url(re.compile(r"/news/post\?slug=new-commerce-seat-changes-explained"))
    expect(
        page.get_by_role("heading", name="New Commerce: when you can lower seat counts (the 7-day window)")
    ).to_be_visible()
    expect(page.get_by_role("table")).to_be_visible()  # the Markdown table is rendered
    expect(page.locator("strong", has_text="7 days (168 hours)")).to_be_visible()
    assert axe_violations(page) == []
    _shots(page, "post")
    assert console_errors == []


def test_customer_cannot_open_the_editor(page, context, base_url):
    sign_in_as(context, base_url, DANA)
    page.goto(base_url + "/news/editor")
    expect(page.get_by_text("Only Opkalla's portal administrators can edit blog posts.").first).to_be_visible()
    expect(page.get_by_role("button", name="New post")).to_have_count(0)


def test_provider_admin_writes_publishes_and_unpublishes_a_post(page, context, base_url, console_errors):
    sign_in_as(context, base_url, RILEY)
    page.set_viewport_size(DESKTOP)
    page.goto(base_url + "/")
    page.get_by_role("link", name="Manage posts").click()
    expect(page.get_by_role("heading", level=1, name="Blog editor")).to_be_visible()
    page.get_by_role("button", name="New post").click()
    expect(page.get_by_role("heading", level=2, name="New post")).to_be_visible()
    page.get_by_role("button", name="Publish", exact=True).click()  # empty: errors beside the fields
    expect(page.get_by_text("Enter a title.")).to_be_visible()
    expect(page.get_by_text("Write the post.")).to_be_visible()

    page.get_by_label("Title").fill("Windows 365 Link arrives")
    expect(page.get_by_label("Web address")).to_have_value("windows-365-link-arrives")
    page.get_by_label("Summary").fill("A small desktop device for Cloud PCs.")
    body = (
        "## Why it matters\n\nSign in with **Windows Hello** and work.\n\n"
        '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    )
    page.get_by_label("Post (Markdown)").fill(body)
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_role("heading", name="Why it matters")).to_be_visible()
    expect(preview.locator("strong", has_text="Windows Hello")).to_be_visible()
    _shots(page, "editor")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("The post was published.")).to_be_visible()

    page.goto(base_url + "/")
    page.get_by_role("link", name=re.compile("Windows 365 Link arrives")).click()
    expect(page.get_by_role("heading", name="Why it matters")).to_be_visible()
    expect(page.get_by_text("<script>window.__pwned = 1</script>", exact=False)).to_be_visible()  # shown as text
    assert page.evaluate("window.__pwned") is None
    assert page.locator("article img[src=x]").count() == 0

    page.goto(base_url + "/news/editor")
    row = page.get_by_role("row").filter(has_text="Windows 365 Link arrives")
    row.get_by_role("button", name="Unpublish").click()
    expect(row.get_by_text("Unpublished")).to_be_visible()
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", level=3, name="Windows 365 Link arrives")).to_have_count(0)
    assert console_errors == []


def test_question_gets_a_streamed_answer_with_references(page, context, base_url, console_errors):
    sign_in_as(context, base_url, LUIS)
    page.set_viewport_size(DESKTOP)
    page.goto(base_url + "/support")
    expect(page.get_by_role("heading", level=1, name="Microsoft Support")).to_be_visible()
    page.get_by_label("Type your message").fill("Can I cancel a subscription I bought last week and get a refund?")
    page.get_by_role("button", name="Send").click()

    log = page.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Can I cancel a subscription I bought last week")).to_be_visible()
    refs = log.get_by_role("group", name="References")
    expect(refs.get_by_role("link").first).to_be_visible(timeout=15_000)
    expect(
        refs.get_by_role("link", name="New Commerce: cancelling a subscription and the 7-day window")
    ).to_be_visible()
    answer = log.locator(".support-answer").last
    expect(answer.get_by_role("link", name="[1]").first).to_be_visible()  # cited in the text
    expect(answer).to_contain_text("7 days")
    assert "[doc" not in answer.inner_text()
    expect(
        page.get_by_role("navigation", name="Your conversations").get_by_role(
            "button", name=re.compile("Can I cancel a subscription")
        )
    ).to_be_visible()
    assert axe_violations(page) == []
    _shots(page, "support")

    refs.get_by_role("link", name="New Commerce: cancelling a subscription and the 7-day window").click()
    expect(page).to_have_url(re.compile(r"/support/article\?slug=nce-cancellation-window"))
    expect(page.get_by_role("heading", name="The 7-day (168-hour) window")).to_be_visible()
    assert axe_violations(page) == []
    _shots(page, "article")

    # The conversation is kept and can be continued, then cleared after confirmation.
    page.get_by_role("link", name="Back to Microsoft Support").click()
    page.get_by_role("button", name=re.compile("Can I cancel a subscription")).click()
    expect(page.get_by_role("log").get_by_text("Can I cancel a subscription I bought last week")).to_be_visible()
    page.get_by_role("button", name="Clear conversation").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Clear").click()
    expect(page.get_by_text("The conversation was cleared.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Can I cancel a subscription"))).to_have_count(0)
    assert console_errors == []


def test_no_answer_long_question_and_other_users(page, context, base_url):
    sign_in_as(context, base_url, DANA)
    page.set_viewport_size(DESKTOP)
    page.goto(base_url + "/support")
    page.get_by_label("Type your message").fill("How do I bake sourdough bread?")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("log", name="Conversation")
    expect(log.get_by_text("I don't know")).to_be_visible(timeout=15_000)
    expect(log.get_by_text("support@opkalla.com")).to_be_visible()
    expect(log.get_by_role("group", name="References")).to_have_count(0)

    page.get_by_label("Type your message").fill("x" * 2001)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("the limit is 2,000")).to_be_visible()
    expect(log.get_by_text("x" * 50)).to_have_count(0)
    _shots(page, "support-no-answer")


def test_a_microsoft_failure_is_explained_and_can_be_retried(page, context, base_url):
    import httpx

    sign_in_as(context, base_url, "priya.natarajan@lakesidedental.onmicrosoft.com")
    page.goto(base_url + "/support")
    httpx.post(
        f"{base_url}/emulator/faults", json={"error_probability": 1.0, "services": ["openai"]}
    ).raise_for_status()
    try:
        page.get_by_label("Type your message").fill("How do I reset a user's password as an administrator?")
        page.get_by_role("button", name="Send").click()
        alert = page.get_by_role("alert").filter(has_text="Try again")
        expect(alert).to_contain_text("temporarily unavailable", timeout=30_000)
    finally:
        httpx.delete(f"{base_url}/emulator/faults").raise_for_status()
    alert.get_by_role("button", name="Try again").click()
    refs = page.get_by_role("log").get_by_role("group", name="References")
    expect(refs.get_by_role("link", name="Resetting a user's password as an administrator")).to_be_visible(
        timeout=15_000
    )
    expect(page.get_by_role("log").get_by_text("How do I reset a user's password")).to_have_count(1)


def test_conversations_are_private_to_their_user(page, context, base_url):
    sign_in_as(context, base_url, DANA)
    page.goto(base_url + "/support")
    conversations = page.get_by_role("navigation", name="Your conversations")
    expect(conversations.get_by_role("button", name=re.compile("How do I bake sourdough bread"))).to_be_visible()
    context.clear_cookies()
    sign_in_as(context, base_url, LUIS)  # same organization, another person
    page.goto(base_url + "/support")
    expect(page.get_by_role("heading", level=1, name="Microsoft Support")).to_be_visible()
    expect(conversations.get_by_text("No conversations yet.")).to_be_visible()
    expect(conversations.get_by_role("button", name=re.compile("sourdough"))).to_have_count(0)


def test_pages_in_the_dark_theme(page, context, base_url):
    sign_in_as(context, base_url, DANA)
    page.set_viewport_size(DESKTOP)
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", level=3).first).to_be_visible()
    page.get_by_role("button", name="Switch light or dark theme").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    assert axe_violations(page) == []
    _shots(page, "home-dark")
    page.get_by_role("navigation", name="Manage My Services").get_by_role("link", name="Microsoft Support").click()
    page.get_by_label("Type your message").fill("How do I set up MFA with the Authenticator app?")
    page.get_by_label("Type your message").press("Enter")  # Enter sends
    expect(page.get_by_role("log").get_by_role("group", name="References")).to_be_visible(timeout=15_000)
    assert axe_violations(page) == []
    _shots(page, "support-dark")
