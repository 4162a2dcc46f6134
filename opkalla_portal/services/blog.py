"""Blog posts on the Homepage: read by every signed-in user, edited by the provider's admins.

Posts belong to the provider (Opkalla), not to a customer, so they are not scoped to the
reader's organization; editing is limited to administrators of the provider organization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from opkalla_portal.models import BlogPost, utcnow
from opkalla_portal.roles import ROLE_ADMINISTRATOR
from opkalla_portal.services.access import Capability, Identity, PermissionDenied, require
from opkalla_portal.services.validation import ValidationFailed

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LIMITS = {"title": 200, "slug": 120, "summary": 500, "body": 50_000}


@dataclass(frozen=True)
class PostSummary:
    id: int
    slug: str
    title: str
    summary: str
    cover_image: str
    date_label: str
    published: bool


@dataclass(frozen=True)
class PostView:
    slug: str
    title: str
    summary: str
    cover_image: str
    date_label: str
    author_name: str
    body_markdown: str


@dataclass(frozen=True)
class PostDraft:
    """What the editor sends; every field is checked by `validate_draft`."""

    title: str
    slug: str
    summary: str
    cover_image: str
    body_markdown: str


class PostInvalid(ValidationFailed):
    """The draft has errors: `errors` maps field name to a message shown beside it."""


def date_label(moment: datetime | None) -> str:
    return f"{moment:%B} {moment.day}, {moment.year}" if moment else ""


def cover_choices() -> list[str]:
    """The cover images an editor may pick (files shipped under assets/blog)."""
    return sorted(f"/blog/{p.name}" for p in (ASSETS_DIR / "blog").glob("*.svg"))


def can_edit(identity: Identity | None) -> bool:
    """Only administrators of the provider organization edit the blog."""
    return bool(identity and identity.is_provider and identity.role == ROLE_ADMINISTRATOR)


def require_editor(identity: Identity | None) -> Identity:
    identity = require(identity, Capability.HOME)
    if not can_edit(identity):
        raise PermissionDenied("Only Opkalla's portal administrators can edit blog posts.")
    return identity


def _summary(post: BlogPost) -> PostSummary:
    return PostSummary(
        post.id,
        post.slug,
        post.title,
        post.summary,
        post.cover_image,
        date_label(post.published_at or post.updated_at),
        post.published,
    )


def published_posts(db: Session, identity: Identity, limit: int = 12) -> list[PostSummary]:
    """The latest published posts, newest first."""
    require(identity, Capability.HOME)
    rows = db.exec(
        select(BlogPost)
        .where(BlogPost.published == True)  # noqa: E712
        .order_by(col(BlogPost.published_at).desc(), col(BlogPost.id).desc())
        .limit(limit)
    ).all()
    return [_summary(p) for p in rows]


def published_post(db: Session, identity: Identity, slug: object) -> PostView | None:
    """A published post by slug, or None (unpublished posts are not shown to readers)."""
    require(identity, Capability.HOME)
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        return None
    post = db.exec(select(BlogPost).where(BlogPost.slug == slug, BlogPost.published == True)).first()  # noqa: E712
    if post is None:
        return None
    return PostView(
        post.slug,
        post.title,
        post.summary,
        post.cover_image,
        date_label(post.published_at),
        post.author_name,
        post.body_markdown,
    )


def all_posts(db: Session, identity: Identity) -> list[PostSummary]:
    """Every post, published or not, for the editor."""
    require_editor(identity)
    rows = db.exec(select(BlogPost).order_by(col(BlogPost.updated_at).desc(), col(BlogPost.id).desc())).all()
    return [_summary(p) for p in rows]


def post_draft(db: Session, identity: Identity, post_id: object) -> PostDraft:
    """The editable fields of one post."""
    require_editor(identity)
    post = _post(db, post_id)
    return PostDraft(post.title, post.slug, post.summary, post.cover_image, post.body_markdown)


def slug_for(title: str) -> str:
    """A URL slug from a title: "Teams Premium: what's new" → "teams-premium-whats-new"."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower().replace("'", "").replace("’", "")).strip("-")
    return slug[: LIMITS["slug"]].strip("-")


def validate_draft(db: Session, draft: PostDraft, post_id: int | None) -> PostDraft:
    """The draft trimmed, or PostInvalid with a message per field."""
    values = {name: getattr(draft, name) for name in ("title", "slug", "summary", "cover_image", "body_markdown")}
    if not all(isinstance(v, str) for v in values.values()):
        raise PostInvalid({"title": "The post could not be read. Reload the page and try again."})
    title, slug, summary = values["title"].strip(), values["slug"].strip().lower(), values["summary"].strip()
    cover, body = values["cover_image"].strip(), values["body_markdown"].strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Enter a title."
    elif len(title) > LIMITS["title"]:
        errors["title"] = f"Keep the title under {LIMITS['title']} characters."
    if not slug:
        errors["slug"] = "Enter a web address (letters, numbers and hyphens)."
    elif len(slug) > LIMITS["slug"] or not SLUG_RE.match(slug):
        errors["slug"] = "Use lower-case letters, numbers and single hyphens only, e.g. teams-premium-news."
    else:
        clash = db.exec(select(BlogPost).where(BlogPost.slug == slug)).first()
        if clash is not None and clash.id != post_id:
            errors["slug"] = "Another post already uses this web address."
    if len(summary) > LIMITS["summary"]:
        errors["summary"] = f"Keep the summary under {LIMITS['summary']} characters."
    if cover and cover not in cover_choices():
        errors["cover_image"] = "Choose one of the cover images."
    if not body:
        errors["body_markdown"] = "Write the post."
    elif len(body) > LIMITS["body"]:
        errors["body_markdown"] = f"The post is too long (over {LIMITS['body']:,} characters)."
    if errors:
        raise PostInvalid(errors)
    return PostDraft(title, slug, summary, cover, body)


def save_post(db: Session, identity: Identity, post_id: object, draft: PostDraft, publish: bool) -> int:
    """Create (post_id None) or update a post; `publish` makes it visible on Home at once."""
    require_editor(identity)
    post = BlogPost(slug="", title="") if post_id is None else _post(db, post_id)
    clean = validate_draft(db, draft, post.id)
    post.title, post.slug, post.summary = clean.title, clean.slug, clean.summary
    post.cover_image, post.body_markdown = clean.cover_image, clean.body_markdown
    post.author_name = post.author_name or identity.display_name
    post.updated_at = utcnow()
    if publish and not post.published_at:
        post.published_at = utcnow()
    if publish or post_id is None:
        post.published = publish
    db.add(post)
    db.flush()
    return post.id


def set_published(db: Session, identity: Identity, post_id: object, published: bool) -> None:
    """Publish or unpublish a post (unpublished posts disappear from Home at once)."""
    require_editor(identity)
    post = _post(db, post_id)
    post.published = bool(published)
    if post.published and not post.published_at:
        post.published_at = utcnow()
    post.updated_at = utcnow()
    db.add(post)


def _post(db: Session, post_id: object) -> BlogPost:
    if not isinstance(post_id, int) or isinstance(post_id, bool):
        raise PermissionDenied("That post was not found.")
    post = db.get(BlogPost, post_id)
    if post is None:
        raise PermissionDenied("That post was not found.")
    return post
