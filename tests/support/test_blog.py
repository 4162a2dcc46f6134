"""Blog posts: readers see published posts; only the provider's administrators edit."""

import pytest
from sqlmodel import select

from opkalla_portal.demo.seed import post_published_on
from opkalla_portal.services import blog
from opkalla_portal.services.access import PermissionDenied
from tests.conftest import TODAY, long_date


def _identity(email):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services.sessions import create_session, resolve_session

    with session_scope() as db:
        user = db.exec(select(PortalUser).where(PortalUser.email == email)).one()
        return resolve_session(db, create_session(db, user))


def _draft(**changes):
    values = dict(
        title="Windows 365 news",
        slug="windows-365-news",
        summary="Short.",
        cover_image="/blog/copilot.svg",
        body_markdown="## Hello\n\nBody.",
    )
    values.update(changes)
    return blog.PostDraft(**values)


def test_readers_see_published_posts_newest_first(seeded):
    from opkalla_portal.db import session_scope

    dana = _identity("dana.whitaker@lakesidedental.onmicrosoft.com")
    with session_scope() as db:
        posts = blog.published_posts(db, dana)
        assert len(posts) == 4 and posts[0].date_label == long_date(post_published_on(0, TODAY))
        assert blog.published_post(db, dana, posts[0].slug).body_markdown
        assert blog.published_post(db, dana, "no-such-post") is None
        assert blog.published_post(db, dana, {"$ne": 1}) is None


def test_only_provider_admins_edit(seeded):
    from opkalla_portal.db import session_scope

    dana = _identity("dana.whitaker@lakesidedental.onmicrosoft.com")
    riley = _identity("riley.morgan@opkalla.onmicrosoft.com")
    assert blog.can_edit(riley) and not blog.can_edit(dana)
    with session_scope() as db:
        with pytest.raises(PermissionDenied):
            blog.save_post(db, dana, None, _draft(), publish=True)
        with pytest.raises(PermissionDenied):
            blog.all_posts(db, dana)
        post_id = blog.save_post(db, riley, None, _draft(), publish=False)
        assert "windows-365-news" not in [p.slug for p in blog.published_posts(db, dana)]  # a draft
        blog.set_published(db, riley, post_id, True)
        assert blog.published_posts(db, dana)[0].slug == "windows-365-news"  # at once, newest
        with pytest.raises(PermissionDenied):
            blog.set_published(db, dana, post_id, False)
        blog.set_published(db, riley, post_id, False)
        assert blog.published_post(db, dana, "windows-365-news") is None


def test_draft_validation_reports_each_field(seeded):
    from opkalla_portal.db import session_scope

    riley = _identity("riley.morgan@opkalla.onmicrosoft.com")
    with session_scope() as db:
        with pytest.raises(blog.PostInvalid) as failed:
            blog.save_post(
                db,
                riley,
                None,
                _draft(title=" ", slug="Bad Slug!", cover_image="/etc/passwd", body_markdown=""),
                publish=True,
            )
        assert set(failed.value.errors) == {"title", "slug", "cover_image", "body_markdown"}
        with pytest.raises(blog.PostInvalid) as clash:
            blog.save_post(db, riley, None, _draft(slug="new-commerce-seat-changes-explained"), publish=True)
        assert clash.value.errors == {"slug": "Another post already uses this web address."}
    assert blog.slug_for("Teams Premium: what's new?") == "teams-premium-whats-new"
