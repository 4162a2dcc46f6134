"""The support knowledge base: Markdown articles, chunked, in a ranked full-text index.

The articles are static data shipped with the portal (`opkalla_portal/knowledge/`), so the
index is an in-memory SQLite FTS5 table built once per process, independent of the
portal's own database (it works the same when the portal runs on PostgreSQL). Ranking is
BM25 with the Porter stemmer, title and heading weighted above body text, and a small
synonym table for the words customers use for the same thing.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
ARTICLE_ROUTE = "/support/article"
MAX_CHUNK_CHARS = 900
# BM25 column weights: title, heading, body.
WEIGHTS = (4.0, 2.5, 1.0)
# A match must cover at least this share of the question's meaningful words...
MIN_COVERAGE = 0.6
# ...and score at least this (BM25, sign flipped so higher is better).
MIN_SCORE = 4.0

WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset("""
a about after all am an and any are as at be been before being but by can could did do does doing don't for
from get got has have having he her here hers him his how i i'm if in into is it it's its just me more most my
no nor not now of off on once only or other our out over own please same she should so some such than that
the their them then there these they this those through to too under until up us very was we were what when
where which while who whom why will with would you your yours want need know tell explain help happens
happen way ways thing things use using used also make makes made work works good best
""".split())
# Customer words mapped to the words the articles use (both are searched).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "2fa": ("mfa", "multifactor"), "two": ("multifactor",), "authenticator": ("mfa",),
    "otp": ("mfa",), "verification": ("mfa",),
    "seat": ("license", "quantity"), "seats": ("license", "quantity"), "licence": ("license",),
    "licences": ("license",), "licensing": ("license",),
    "reduce": ("reduction", "decrease"), "lower": ("reduce", "decrease"), "decrease": ("reduce",),
    "fewer": ("reduce",), "remove": ("unassign", "reduce"),
    "refund": ("cancel", "cancellation"), "cancel": ("cancellation",), "cancelling": ("cancellation",),
    "bill": ("invoice", "billing"), "bills": ("invoice",), "charge": ("invoice", "prorated"),
    "charged": ("invoice", "prorated"), "cost": ("price", "costs"), "costs": ("price",),
    "expensive": ("price", "costs"), "cheaper": ("price", "discount"), "pricing": ("price",),
    "email": ("mail", "mailbox"), "emails": ("mail", "mailbox"), "inbox": ("mailbox",),
    "full": ("size", "space"), "space": ("storage", "size"),
    "leaver": ("leaves", "offboarding"), "leaving": ("leaves", "offboarding"), "quit": ("leaves", "offboarding"),
    "departing": ("leaves", "offboarding"), "fired": ("leaves", "offboarding"),
    "new": ("onboarding",), "hire": ("onboarding",), "starter": ("onboarding",),
    "forgot": ("reset", "forget"), "forgotten": ("reset",),
    "laptop": ("device", "enroll"), "laptops": ("device",), "phone": ("device",), "enrol": ("enroll",),
    "byod": ("personal",), "mdm": ("intune",),
    "guest": ("external",), "guests": ("external",), "outside": ("external",),
    "virus": ("antivirus", "malware"), "antivirus": ("defender",), "ransomware": ("restore",),
    "phish": ("phishing",), "spam": ("junk", "quarantine"),
    "recording": ("recordings",), "recordings": ("recording",),
    "azure": ("azure",), "budget": ("budgets",), "reserved": ("reservation",),
    "permission": ("access", "role"), "permissions": ("access", "role"),
    "dns": ("domain",), "spf": ("dns",), "dkim": ("dns",), "dmarc": ("dns",),
    "copilot": ("copilot",), "ai": ("copilot",),
    "commitment": ("term",), "monthly": ("term",), "annual": ("term",), "yearly": ("annual", "term"),
    "partner": ("gdap",), "delegated": ("gdap",),
}


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    body: str  # Markdown without the title line
    kind: str  # "help" (the portal's own help) or "microsoft"

    @property
    def url(self) -> str:
        return f"{ARTICLE_ROUTE}?slug={self.slug}"


@dataclass(frozen=True)
class Chunk:
    slug: str
    title: str
    heading: str
    text: str


@dataclass(frozen=True)
class Hit:
    """A ranked chunk: where it comes from and how well it matched."""

    slug: str
    title: str
    heading: str
    text: str
    score: float  # higher is better

    @property
    def url(self) -> str:
        return f"{ARTICLE_ROUTE}?slug={self.slug}"


def parse_article(slug: str, markdown: str, kind: str) -> Article:
    """An article from its file: the first `# ` line is the title, the rest the body."""
    lines = markdown.strip().splitlines()
    title = lines[0].lstrip("#").strip() if lines and lines[0].startswith("# ") else slug.replace("-", " ")
    body = "\n".join(lines[1:] if lines and lines[0].startswith("# ") else lines).strip()
    return Article(slug=slug, title=title, body=body, kind=kind)


@lru_cache(maxsize=1)
def load_articles() -> tuple[Article, ...]:
    """Every knowledge article, help articles first, each sorted by slug."""
    articles = []
    for kind in ("help", "microsoft"):
        for path in sorted((KNOWLEDGE_DIR / kind).glob("*.md")):
            articles.append(parse_article(path.stem, path.read_text(encoding="utf-8"), kind))
    return tuple(articles)


def article_by_slug(slug: object) -> Article | None:
    """The article with this slug, or None (the slug may come from the browser: any value)."""
    if not isinstance(slug, str):
        return None
    return next((a for a in load_articles() if a.slug == slug), None)


def chunk_article(article: Article, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Split at `## ` headings; a section longer than max_chars is split between paragraphs,
    then sentences, so each chunk is a passage that can stand on its own."""
    chunks: list[Chunk] = []
    heading, lines = "", []

    def flush() -> None:
        text = "\n".join(lines).strip()
        for piece in _split(text, max_chars):
            chunks.append(Chunk(article.slug, article.title, heading, piece))

    for line in article.body.splitlines():
        if line.startswith("## "):
            flush()
            heading, lines = line[3:].strip(), []
        else:
            lines.append(line)
    flush()
    return chunks


def _split(text: str, max_chars: int) -> list[str]:
    if not text:
        return []
    if len(text) <= max_chars:
        return [text]
    parts = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(parts) == 1:
        parts = re.split(r"(?<=[.!?])\s+", text)
    pieces, current = [], ""
    for part in parts:
        if current and len(current) + len(part) + 1 > max_chars:
            pieces.append(current.strip())
            current = ""
        current += part + "\n"
    if current.strip():
        pieces.append(current.strip())
    return pieces


def query_terms(question: str) -> list[str]:
    """The meaningful words of a question, in order, without duplicates."""
    seen: list[str] = []
    for word in WORD.findall(question.lower()):
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()) and word not in seen:
            seen.append(word)
    return seen[:30]


class KnowledgeIndex:
    """An in-memory FTS5 index over article chunks; thread-safe, read-only after build."""

    def __init__(self, articles: tuple[Article, ...], min_score: float = MIN_SCORE) -> None:
        self._min_score = min_score
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute("CREATE VIRTUAL TABLE chunks USING fts5(title, heading, body, slug UNINDEXED,"
                         " tokenize='porter unicode61')")
        self._chunks: list[Chunk] = []
        for article in articles:
            for chunk in chunk_article(article):
                self._chunks.append(chunk)
                self._db.execute("INSERT INTO chunks(rowid, title, heading, body, slug) VALUES (?, ?, ?, ?, ?)",
                                 (len(self._chunks), chunk.title, chunk.heading, chunk.text, chunk.slug))
        self._db.commit()

    @property
    def chunk_count(self) -> int:
        return len(self._chunks)

    def search(self, question: str, limit: int = 5) -> list[Hit]:
        """Chunks ranked by BM25 (best first); empty when nothing is a good enough match."""
        terms = query_terms(question)
        if not terms:
            return []
        expanded = list(dict.fromkeys(terms + [s for t in terms for s in SYNONYMS.get(t, ())]))
        match = " OR ".join(f'"{t}"' for t in expanded)
        with self._lock:
            rows = self._db.execute(
                f"SELECT rowid, -bm25(chunks, {WEIGHTS[0]}, {WEIGHTS[1]}, {WEIGHTS[2]}) AS score FROM chunks"
                " WHERE chunks MATCH ? ORDER BY score DESC LIMIT ?", (match, max(limit, 1) * 3)).fetchall()
            if not rows or rows[0][1] < self._min_score:
                return []
            if self._coverage(terms, rows[0][0]) < MIN_COVERAGE:
                return []
        hits = []
        for rowid, score in rows[:limit]:
            chunk = self._chunks[rowid - 1]
            hits.append(Hit(chunk.slug, chunk.title, chunk.heading, chunk.text, round(score, 3)))
        return hits

    def _coverage(self, terms: list[str], rowid: int) -> float:
        """Share of the question's words (or a synonym) found in the best chunk's article."""
        slug = self._chunks[rowid - 1].slug
        found = 0
        for term in terms:
            alternatives = " OR ".join(f'"{t}"' for t in (term, *SYNONYMS.get(term, ())))
            if self._db.execute("SELECT 1 FROM chunks WHERE chunks MATCH ? AND slug = ? LIMIT 1",
                                (alternatives, slug)).fetchone():
                found += 1
        return found / len(terms)


_index: KnowledgeIndex | None = None
_index_lock = threading.Lock()


def knowledge_index() -> KnowledgeIndex:
    """The process's index, built on first use (about 50 ms)."""
    global _index
    if _index is None:
        with _index_lock:
            if _index is None:
                _index = KnowledgeIndex(load_articles())
    return _index


def ranked_articles(hits: list[Hit]) -> list[str]:
    """Article slugs in the order their best chunk ranks (for hit@k)."""
    return list(dict.fromkeys(hit.slug for hit in hits))


def passages_for_answer(hits: list[Hit], count: int = 3, relative_floor: float = 0.6,
                        max_chars: int = 2000) -> list[Hit]:
    """What grounds an answer: the best articles (one passage each, best first), each passage
    the whole article when it is short (a chunk alone can miss the sentence that answers),
    dropping articles that score under `relative_floor` of the best."""
    chosen: list[Hit] = []
    for hit in hits:
        if hits and hit.score < hits[0].score * relative_floor:
            break
        if all(hit.slug != c.slug for c in chosen):
            article = article_by_slug(hit.slug)
            text = article.body if article and len(article.body) <= max_chars else hit.text
            chosen.append(Hit(hit.slug, hit.title, hit.heading, _plain(text), hit.score))
        if len(chosen) == count:
            break
    return chosen


def _plain(markdown: str) -> str:
    """Passage text for the model: prose only (headings and list markers would be quoted as
    sentences by an extractive model)."""
    lines = []
    for line in markdown.splitlines():
        line = line.strip()
        if line.startswith("#"):
            continue
        line = re.sub(r"^(?:[-*]|\d+\.)\s+", "", line)
        if line:
            lines.append(line)
    return "\n".join(lines)


__all__ = ["Article", "Chunk", "Hit", "KnowledgeIndex", "article_by_slug", "chunk_article", "knowledge_index",
           "load_articles", "passages_for_answer", "query_terms", "ranked_articles"]
