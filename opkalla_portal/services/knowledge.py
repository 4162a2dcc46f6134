"""The support knowledge base: Markdown articles, chunked, in a ranked full-text index.

The articles are static data shipped with the portal (`opkalla_portal/knowledge/`), so the
index is an in-memory SQLite FTS5 table built once per process, independent of the
portal's own database (it works the same when the portal runs on PostgreSQL). Ranking is
BM25 with the Porter stemmer, title and heading weighted above body text, over the question's
words *and their synonyms* (`opkalla_portal.vocabulary`: give/assign, lower/reduce, bill/invoice…).
Each article's "Customers also ask" lines (everyday phrasings of what it answers) are indexed as
their own field and matched line by line, but never used as a passage. The best articles are then
re-ranked by how much of the question they cover, and whether the question is answerable at all is
decided over that retrieved set, not the top hit alone.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from opkalla_portal import scope, vocabulary

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
ARTICLE_ROUTE = "/support/article"
MAX_CHUNK_CHARS = 900
# BM25 column weights: title, heading, body, "customers also ask" (one extra row per article).
WEIGHTS = (4.0, 2.5, 1.0, 2.0)
# Answerability, decided over the retrieved set: some article among the best RERANK_DEPTH must
# cover at least this share of the question's concepts (weighted by how rare each concept is)...
MIN_COVERAGE = 0.5
# ...a higher share when it names something out of scope (another vendor's product, a non-IT topic):
# "our AWS bill", "the electricity bill" share words with the billing articles but are not theirs.
MIN_COVERAGE_OUT_OF_SCOPE = 0.6
# ...a lower share when the question is explicitly in the domain (names Microsoft 365, Azure, the
# portal, licenses, invoices, sign-in, mail…) and names nothing out of scope (another vendor, a
# non-IT topic): its uncovered words are then everyday words ("warehouse"), not the subject.
MIN_COVERAGE_IN_DOMAIN = 0.35  # round 7: 0.45 → 0.35 (bench/support_cv.py --hybrid, set all with tuning-r7)
# ...and only when at most this many of its concepts are in no article: a question of several
# unknown words ("pivot table", "dental X-ray software") is about something the articles don't cover.
MAX_UNKNOWN_IN_DOMAIN = 1
# ...and that unknown word then weighs this share of the weight a word no article has gets.
UNKNOWN_SHARE_IN_DOMAIN = 0.25  # both chosen by bench/support_cv.py (tuning half + near-domain probes)
# ...and the full-text match must score at least this (BM25, sign flipped so higher is better).
MIN_SCORE = 2.0
# Round 6: with an embeddings deployment (hybrid), meaning decides too. A question the coverage rule would
# refuse is answerable when a candidate article's cosine similarity to it is at least MIN_SIMILARITY and it
# names nothing out of scope (another vendor, uncovered IT, a non-IT topic, an unknown named application):
# paraphrases share few words with the article but much meaning. None: similarity never makes a question
# answerable (round 5's rule). Chosen by bench/support_cv.py --hybrid (set all + near-domain probes).
MIN_SIMILARITY: float | None = 0.4  # round 7: 0.45 → 0.4 (bench/support_cv.py --hybrid, set all with tuning-r7)
# ...plus this much per concept of the question that no article has: a word unknown to the knowledge base is
# the strongest sign a question is about something else ("is our Microsoft 365 subscription tax deductible?"),
# which a sentence embedding, pulled near by the domain's words, does not see.
SIMILARITY_PER_UNKNOWN = 0.0  # round 8: 0.1 → 0.0 (bench/support_cv.py --hybrid, set all with the old blind sets)
# Round 10, hybrid: similarity in meaning does not make a question answerable when more than this share of
# its concepts are in no article ("the privacy notice on our website for GDPR", "our operator's licence for
# the HGVs"): the embedding is pulled near by the one domain word, the rest is about something else. None: off.
MAX_UNKNOWN_SHARE_SIMILAR: float | None = 0.5  # chosen by bench/support_cv.py --hybrid (set all, round 10)
# Round 10, both modes: the concepts the best candidate covers must weigh (IDF) at least this share of the
# weight of a word no article has: a greeting whose only concept is an everyday one ("how's your day going")
# is not a question the articles answer, however fully that one word is covered. Relative, so that it means
# the same with 60 articles as with 3. None: off.
MIN_EVIDENCE: float | None = 0.25  # bench/support_cv.py --set all, chosen in 4 of 5 folds in both modes
# Round 6, both modes: one word no article has ("receipts", "dashboard") does not make a question unanswerable
# when an article covers at least this share of the rest of it (its known concepts, IDF-weighted) and it names
# nothing out of scope. None: off.
MIN_KNOWN_COVERAGE: float | None = None
RERANK_DEPTH = 16
# Typos: an unknown word at least this long may be corrected to the articles' word one edit away.
TYPO_MIN_LENGTH = 5
# Final article score: coverage of the question (what answers it) leads in BM25-only mode; BM25,
# relative to the best, breaks ties; a concept in the title counts extra (the article is *about* it).
# A question worded like one of the article's "Customers also ask" lines counts extra too. With an
# embeddings deployment, similarity in meaning (cosine, 0..1) weighs most: 4.0 was the middle of the
# plateau on the tuning questions (docs/support.md, "real embeddings").
COVERAGE_WEIGHT, BM25_WEIGHT, TITLE_WEIGHT, ASK_WEIGHT, VECTOR_WEIGHT = 1.0, 0.35, 0.25, 1.5, 4.0
# Round 12, hybrid: the similarity of the question to the nearest of the article's "Customers also ask" lines,
# each embedded alone, counts too (ranking only; what is answerable is unchanged). Chosen in 5 of 5 folds by
# bench/support_cv.py --hybrid --set all; 0: off.
ASK_SIMILARITY_WEIGHT = 3.0
# Round 16, hybrid: a question the coverage rule refuses is answerable when the article ranked first is near it
# through one of its "Customers also ask" lines (cosine at least MIN_ASK_SIMILARITY_FIRST), covers at least
# MIN_FIRST_COVERAGE of it and holds at least MIN_FIRST_EVIDENCE (the weight of the concepts it covers, relative to
# a word no article has), and the question names nothing out of scope: a paraphrase of a line, not a question
# near one line by one shared word. None: off. Chosen by bench/support_cv.py --hybrid --set all (round 16).
MIN_ASK_SIMILARITY_FIRST: float | None = 0.35
MIN_FIRST_COVERAGE = 0.25
MIN_FIRST_EVIDENCE = 1.0

# A concept found only in an article's "also ask" lines counts half toward its coverage: those lines
# use everyday words ("too high", "bill") that alone must not make an off-topic question answerable.
ASK_ONLY_SHARE = 0.5
# Round 5: a question that names the portal ("roles in the portal", "on your site") is about the portal's own
# help first, and one that names a Microsoft product ("a folder in OneDrive") about the articles whose title
# names that product, and less about an article that never mentions it (the Outlook article's "Deleted Items
# folder" matched as many words of "restore a deleted folder in OneDrive").
PORTAL_WEIGHT = 0.2
PRODUCT_WEIGHT = 0.2
PORTAL_CONCEPTS = frozenset(vocabulary.concept(w) for w in ("portal", "opkalla"))
WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = vocabulary.STOPWORDS


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    body: str  # Markdown without the title line (and without "Customers also ask")
    kind: str  # "help" (the portal's own help) or "microsoft"
    # Everyday phrasings of what the article answers ("## Customers also ask"): they help find the
    # article, but are never quoted as an answer (they are questions, not facts).
    also_ask: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"{ARTICLE_ROUTE}?slug={self.slug}"

    @property
    def page_markdown(self) -> str:
        """What the article page shows: the body, then the "Customers also ask" list."""
        if not self.also_ask:
            return self.body
        return f"{self.body}\n\n## {ALSO_ASK_HEADING}\n" + "\n".join(f"- {q}" for q in self.also_ask)


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


ALSO_ASK_HEADING = "Customers also ask"


def parse_article(slug: str, markdown: str, kind: str) -> Article:
    """An article from its file: the first `# ` line is the title, the rest the body; a
    `## Customers also ask` section (a list of questions) is kept apart from the body."""
    lines = markdown.strip().splitlines()
    title = lines[0].lstrip("#").strip() if lines and lines[0].startswith("# ") else slug.replace("-", " ")
    body_lines, also_ask, in_also_ask = [], [], False
    for line in lines[1:] if lines and lines[0].startswith("# ") else lines:
        if line.startswith("## "):
            in_also_ask = line[3:].strip().lower() == ALSO_ASK_HEADING.lower()
            if in_also_ask:
                continue
        if in_also_ask:
            item = re.sub(r"^\s*[-*]\s+", "", line).strip()
            if item:
                also_ask.append(item)
        else:
            body_lines.append(line)
    return Article(slug=slug, title=title, body="\n".join(body_lines).strip(), kind=kind, also_ask=tuple(also_ask))


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
        self._db.execute(
            "CREATE VIRTUAL TABLE chunks USING fts5(title, heading, body, asks, slug UNINDEXED,"
            " tokenize='porter unicode61')"
        )
        self._chunks: list[Chunk] = []
        self._ask_rows: dict[int, str] = {}  # rowid of an article's "also ask" row → slug (found, never quoted)
        self._first_chunk: dict[str, int] = {}
        # Per article: its concepts (title + body) and its title's concepts, normalised like questions.
        self._concepts: dict[str, frozenset[str]] = {}
        self._title_concepts: dict[str, frozenset[str]] = {}
        self._ask_concepts: dict[str, tuple[frozenset[str], ...]] = {}
        self._ask_only: dict[str, frozenset[str]] = {}
        self._kinds = {article.slug: article.kind for article in articles}
        for article in articles:
            text = f"{article.title}\n{article.body}"
            if article.kind == "help":  # the portal's own help is about the portal, even where it doesn't say so
                text += "\nOpkalla customer portal"
            self._concepts[article.slug] = frozenset(vocabulary.concepts(text))
            asks = frozenset(vocabulary.concepts("\n".join(article.also_ask)))
            self._ask_only[article.slug] = asks - self._concepts[article.slug]
            self._title_concepts[article.slug] = frozenset(vocabulary.concepts(article.title))
            self._ask_concepts[article.slug] = tuple(frozenset(vocabulary.concepts(q)) for q in article.also_ask)
            for chunk in chunk_article(article):
                self._chunks.append(chunk)
                self._first_chunk.setdefault(article.slug, len(self._chunks))
                self._db.execute(
                    "INSERT INTO chunks(rowid, title, heading, body, asks, slug) VALUES (?, ?, ?, ?, '', ?)",
                    (len(self._chunks), chunk.title, chunk.heading, chunk.text, chunk.slug),
                )
        for article in articles:
            if article.also_ask and article.slug in self._first_chunk:
                rowid = len(self._chunks) + len(self._ask_rows) + 1
                self._ask_rows[rowid] = article.slug
                self._db.execute(
                    "INSERT INTO chunks(rowid, title, heading, body, asks, slug) VALUES (?, ?, '', '', ?, ?)",
                    (rowid, article.title, "\n".join(article.also_ask), article.slug),
                )
        self._db.commit()
        # How rare each concept is across articles: rare concepts decide what a question is about.
        n = max(1, len(self._concepts))
        frequency: dict[str, int] = {}
        for slug, found in self._concepts.items():
            for c in found | self._ask_only[slug]:
                frequency[c] = frequency.get(c, 0) + 1
        self._idf = {c: math.log((n + 1) / (f + 0.5)) for c, f in frequency.items()}
        self._unknown_idf = math.log((n + 1) / 0.5)  # a concept no article has (e.g. "pizza")
        self._known = frozenset(frequency)  # every concept some article uses (never out of scope)
        # The articles' own words by length, for correcting a customer's typo ("licnese", "onedirve").
        self._words_by_length: dict[int, set[str]] = {}
        for article in articles:
            for word in WORD.findall(f"{article.title} {article.body} {' '.join(article.also_ask)}".lower()):
                if len(word) >= TYPO_MIN_LENGTH - 1 and not word.isdigit():
                    self._words_by_length.setdefault(len(word), set()).add(word)

    @property
    def chunk_count(self) -> int:
        return len(self._chunks)

    def weight(self, concept: str) -> float:
        return self._idf.get(concept, self._unknown_idf)

    def coverage(self, question_concepts: list[str], slug: str, unknown_share: float = 1.0) -> float:
        """Share of the question's concepts (IDF-weighted) that the article contains; a concept no
        article has weighs `unknown_share` of its (highest) weight."""

        def weight(c: str) -> float:
            return self.weight(c) * (unknown_share if c not in self._known else 1.0)

        total = sum(weight(c) for c in question_concepts)
        found = self._concepts.get(slug, frozenset())
        asked = self._ask_only.get(slug, frozenset())
        return (
            sum(weight(c) * (1.0 if c in found else ASK_ONLY_SHARE if c in asked else 0.0) for c in question_concepts)
            / total
            if total
            else 0.0
        )

    def _title_coverage(self, question_concepts: list[str], slug: str) -> float:
        total = sum(self.weight(c) for c in question_concepts)
        found = self._title_concepts.get(slug, frozenset())
        return sum(self.weight(c) for c in question_concepts if c in found) / total if total else 0.0

    def _ask_coverage(self, question_concepts: list[str], slug: str) -> float:
        """How well the question matches the closest of the article's "also ask" lines: the
        weighted share of the question that line holds, times the share of the line the question
        holds (a long line matched by one word is no match)."""
        total = sum(self.weight(c) for c in question_concepts)
        best = 0.0
        for line in self._ask_concepts.get(slug, ()):
            line_total = sum(self.weight(c) for c in line)
            shared = sum(self.weight(c) for c in question_concepts if c in line)
            if total and line_total:
                best = max(best, (shared / total) * (shared / line_total))
        return best**0.5

    def correct_typos(self, question: str) -> str:
        """The question with each unknown word of TYPO_MIN_LENGTH+ letters replaced by the articles'
        word one edit away (a letter missing, extra, wrong or two swapped), when exactly one such word
        exists. Words named out of scope ("payroll") are left alone: they are not typos."""

        def fix(match: re.Match) -> str:
            word = match.group(0)
            lowered = word.lower()
            if (
                len(lowered) < TYPO_MIN_LENGTH
                or lowered.isdigit()
                or vocabulary.concept(lowered) in self._known
                or lowered in STOPWORDS
                or scope.out_of_scope_words(lowered)
            ):
                return word
            near = {
                w
                for n in (len(lowered) - 1, len(lowered), len(lowered) + 1)
                for w in self._words_by_length.get(n, ())
                if _one_edit(lowered, w)
            }
            return near.pop() if len(near) == 1 else word

        return re.sub(r"[A-Za-z]+", fix, question)

    def in_domain(self, question: str, question_concepts: list[str]) -> bool:
        """Explicitly about the domain: names Microsoft 365 / Azure / the portal or what a customer
        administers there, nothing out of scope, and at most MAX_UNKNOWN_IN_DOMAIN words no article has."""
        unknown = [c for c in question_concepts if c not in self._known]
        return (
            not scope.out_of_scope_words(question, self._known)
            and len(unknown) <= MAX_UNKNOWN_IN_DOMAIN
            and bool(scope.domain_anchors(question_concepts, question))
        )

    def min_coverage(self, question: str, question_concepts: list[str]) -> float:
        """The coverage some retrieved article needs for the question to be answerable: higher when the
        question names something out of scope, lower when it is explicitly in the domain
        (`opkalla_portal.scope`), MIN_COVERAGE otherwise."""
        if scope.out_of_scope_words(question, self._known):
            return MIN_COVERAGE_OUT_OF_SCOPE
        return MIN_COVERAGE_IN_DOMAIN if self.in_domain(question, question_concepts) else MIN_COVERAGE

    def answerable(
        self,
        question: str,
        question_concepts: list[str],
        candidates: list[str],
        vector_scores: dict[str, float] | None = None,
        ask_scores: dict[str, float] | None = None,
    ) -> bool:
        """Whether the retrieved candidates (best first) answer the question (after `scope.refuse_outright`):
        some candidate covers enough of its concepts (`min_coverage`), or, in hybrid mode, the question names
        nothing out of scope and the first is near one of its "also ask" lines (`MIN_ASK_SIMILARITY_FIRST`) or one
        is near it in meaning (`MIN_SIMILARITY`)."""
        if MIN_EVIDENCE is not None and max(self._evidence(question_concepts, s) for s in candidates) < MIN_EVIDENCE:
            return False
        # In the domain, an everyday word no article has ("bakery") is not the subject: it weighs less.
        unknown_share = UNKNOWN_SHARE_IN_DOMAIN if self.in_domain(question, question_concepts) else 1.0
        if max(self.coverage(question_concepts, slug, unknown_share) for slug in candidates) >= self.min_coverage(
            question, question_concepts
        ):
            return True
        if scope.out_of_scope_words(question, self._known):
            return False
        unknown = [c for c in question_concepts if c not in self._known]
        if MAX_UNKNOWN_SHARE_SIMILAR is not None and len(unknown) > MAX_UNKNOWN_SHARE_SIMILAR * len(question_concepts):
            return False
        if self._near_a_line_of_the_first(question_concepts, candidates[0], ask_scores, unknown_share):
            return True
        if (
            MIN_KNOWN_COVERAGE is not None
            and len(unknown) <= MAX_UNKNOWN_IN_DOMAIN
            and len(unknown) < len(question_concepts)
            and max(self.coverage(question_concepts, slug, 0.0) for slug in candidates) >= MIN_KNOWN_COVERAGE
        ):
            return True
        return self._similar({s: vector_scores[s] for s in candidates if s in (vector_scores or {})}, len(unknown))

    def _near_a_line_of_the_first(
        self, question_concepts: list[str], first: str, ask_scores: dict[str, float] | None, unknown_share: float
    ) -> bool:
        """The first-ranked article answers a paraphrase of one of its "also ask" lines (MIN_ASK_SIMILARITY_FIRST)."""
        return (
            MIN_ASK_SIMILARITY_FIRST is not None
            and bool(ask_scores)
            and ask_scores.get(first, 0.0) >= MIN_ASK_SIMILARITY_FIRST
            and self.coverage(question_concepts, first, unknown_share) >= MIN_FIRST_COVERAGE
            and self._evidence(question_concepts, first) >= MIN_FIRST_EVIDENCE
        )

    def _evidence(self, question_concepts: list[str], slug: str) -> float:
        """How much of the question the article holds: the IDF weight of the concepts it covers (as
        `coverage` counts them), relative to the weight of a word no article has."""
        found, asked = self._concepts.get(slug, frozenset()), self._ask_only.get(slug, frozenset())
        held = sum(
            self.weight(c) * (1.0 if c in found else ASK_ONLY_SHARE if c in asked else 0.0)
            for c in set(question_concepts)
        )
        return held / self._unknown_idf

    @staticmethod
    def _similar(vector_scores: dict[str, float] | None, unknown: int = 0) -> bool:
        """Some article is near the question in meaning: at least MIN_SIMILARITY, plus SIMILARITY_PER_UNKNOWN
        per concept no article has (hybrid mode only)."""
        return (
            MIN_SIMILARITY is not None
            and bool(vector_scores)
            and max(vector_scores.values()) >= MIN_SIMILARITY + SIMILARITY_PER_UNKNOWN * unknown
        )

    def search(
        self,
        question: str,
        limit: int = 5,
        vector_scores: dict[str, float] | None = None,
        ask_scores: dict[str, float] | None = None,
    ) -> list[Hit]:
        """The best chunk of each of the best articles, best first; empty when the question is not
        answerable from the articles (no article in the retrieved set covers enough of it).

        `vector_scores` (slug → cosine similarity, from an embeddings deployment) adds hybrid
        ranking: articles the vectors find are candidates too, and similarity adds to the score;
        `ask_scores` (slug → similarity to the nearest of its "also ask" lines) adds to it too.
        """
        question = self.correct_typos(question)
        query = vocabulary.query_words(question)[:30]
        if not query:
            return []
        question_concepts = [c for c, _ in query]
        products = scope.PRODUCT_CONCEPTS & set(question_concepts)
        searched = list(dict.fromkeys(w for _, words in query for w in words))
        match = " OR ".join(f'"{w}"' for w in searched)
        with self._lock:
            rows = self._db.execute(
                f"SELECT rowid, -bm25(chunks, {WEIGHTS[0]}, {WEIGHTS[1]}, {WEIGHTS[2]}, {WEIGHTS[3]}) AS score"
                " FROM chunks"
                " WHERE chunks MATCH ? ORDER BY score DESC LIMIT 200",
                (match,),
            ).fetchall()
        if not rows or (rows[0][1] < self._min_score and not self._similar(vector_scores)):
            return []
        # Per article: its best BM25 score (any row, "also ask" too) and its best passage (body rows only).
        best_score: dict[str, float] = {}
        best_passage: dict[str, int] = {}
        for rowid, score in rows:
            slug = self._ask_rows.get(rowid) or self._chunks[rowid - 1].slug
            best_score.setdefault(slug, score)
            if rowid not in self._ask_rows:
                best_passage.setdefault(slug, rowid)
        best_chunk = {
            slug: (best_passage.get(slug, self._first_chunk[slug]), score) for slug, score in best_score.items()
        }
        candidates = list(best_chunk)[:RERANK_DEPTH]
        if vector_scores:
            for slug in sorted(vector_scores, key=vector_scores.get, reverse=True)[:RERANK_DEPTH]:
                if slug in best_chunk and slug not in candidates:
                    candidates.append(slug)
        top_bm25 = rows[0][1]
        ranked = []
        for slug in candidates:
            coverage = self.coverage(question_concepts, slug)
            score = (
                COVERAGE_WEIGHT * coverage
                + BM25_WEIGHT * best_chunk[slug][1] / top_bm25
                + TITLE_WEIGHT * self._title_coverage(question_concepts, slug)
                + ASK_WEIGHT * self._ask_coverage(question_concepts, slug)
            )
            if self._kinds.get(slug) == "help" and PORTAL_CONCEPTS & set(question_concepts):
                score += PORTAL_WEIGHT
            if products & self._title_concepts.get(slug, frozenset()):
                score += PRODUCT_WEIGHT
            elif products and not products & self._concepts.get(slug, frozenset()):
                score -= PRODUCT_WEIGHT  # the article never mentions the product asked about
            if vector_scores:
                score += VECTOR_WEIGHT * max(0.0, vector_scores.get(slug, 0.0))
            if ask_scores:
                score += ASK_SIMILARITY_WEIGHT * max(0.0, ask_scores.get(slug, 0.0))
            ranked.append((score, coverage, slug))
        ranked.sort(key=lambda r: (-r[0], r[2]))
        if scope.refuse_outright(question, question_concepts, self._known):
            return []
        if not self.answerable(question, question_concepts, [slug for _, _, slug in ranked], vector_scores, ask_scores):
            return []
        hits = []
        for score, _, slug in ranked[:limit]:
            chunk = self._chunks[best_chunk[slug][0] - 1]
            hits.append(Hit(chunk.slug, chunk.title, chunk.heading, chunk.text, round(score, 3)))
        return hits


def _one_edit(a: str, b: str) -> bool:
    """True when b is a with one letter inserted, deleted or replaced, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1 :]


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


def passages_for_answer(
    hits: list[Hit], count: int = 3, relative_floor: float = 0.6, max_chars: int = 2000
) -> list[Hit]:
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


__all__ = [
    "Article",
    "Chunk",
    "Hit",
    "KnowledgeIndex",
    "article_by_slug",
    "chunk_article",
    "knowledge_index",
    "load_articles",
    "passages_for_answer",
    "query_terms",
    "ranked_articles",
]
