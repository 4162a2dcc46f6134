"""Hybrid retrieval's vector half: article embeddings and cosine similarity to a question.

Used only when an Azure OpenAI embeddings deployment is configured
(`OPKALLA_MS_OPENAI_EMBEDDINGS_DEPLOYMENT`; the demo's emulator runs all-MiniLM-L6-v2).
Each article (title + the start of its body), and each of its "Customers also ask" lines on its
own, is embedded once per deployment and kept in the portal's database (`KnowledgeVector`, JSON
text on SQLite and PostgreSQL alike: a few hundred vectors, compared in one numpy product). A
question is embedded per ask; `KnowledgeIndex.search(..., vector_scores=..., ask_scores=...)`
adds both similarities to the BM25/coverage score.
Any embeddings failure falls back to BM25 alone: a question is never lost to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.services.knowledge import load_articles

log = logging.getLogger(__name__)
ARTICLE_CHARS = 2600  # what is embedded of each article: title, "Customers also ask", the start of the body


class Embedder(Protocol):
    deployment: str

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


ASK_KEY = "#ask-"  # "<slug>#ask-<n>": the vector of an article's n-th "Customers also ask" line


def article_texts() -> dict[str, str]:
    """What is embedded, by key: each article (its slug) and each of its "also ask" lines."""
    texts = {}
    for a in load_articles():
        # The "Customers also ask" phrasings come first: they say in everyday words what the article answers.
        texts[a.slug] = "\n".join([a.title, *a.also_ask, a.body])[:ARTICLE_CHARS]
        # Round 12: each line alone too. A question worded like one line is near it, where the whole
        # article's vector averages that line with everything else the article says.
        texts.update({f"{a.slug}{ASK_KEY}{n}": line for n, line in enumerate(a.also_ask, 1)})
    return texts


@dataclass(frozen=True)
class Similarity:
    """A question's cosine similarity to each article, and to the nearest of each article's "also
    ask" lines; both empty when embeddings are unavailable."""

    articles: dict[str, float]
    also_ask: dict[str, float]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class VectorRanker:
    """Article vectors for one embeddings deployment, and similarity of a question to each."""

    def __init__(self, embedder: Embedder, *, persist: bool = True) -> None:
        self.embedder = embedder
        self.persist = persist  # False: keep vectors in memory only (benchmarks without a database)
        self._vectors: dict[str, list[float]] = {}
        self._rows: tuple[list[str], np.ndarray] | None = None  # `_vectors` as one matrix of unit rows
        self._lock = asyncio.Lock()

    @classmethod
    def in_memory(cls, embedder: Embedder) -> VectorRanker:
        return cls(embedder, persist=False)

    async def ensure_indexed(self) -> None:
        """Load stored vectors; embed (outside any transaction) and store what is missing or stale."""
        async with self._lock:
            if self._vectors:
                return
            texts = article_texts()
            stored = self._load(texts) if self.persist else {}
            missing = [slug for slug in texts if slug not in stored]
            if missing:
                vectors = await self.embedder.embed([texts[s] for s in missing])
                fresh = dict(zip(missing, vectors, strict=True))
                if self.persist:
                    try:
                        self._store(fresh, texts)
                    except IntegrityError:  # another worker stored the same articles first: theirs are as good
                        log.info("article vectors were stored by another worker")
                stored.update(fresh)
            self._vectors = stored

    def _load(self, texts: dict[str, str]) -> dict[str, list[float]]:
        from opkalla_portal.db import session_scope
        from opkalla_portal.models import KnowledgeVector

        with session_scope() as db:
            rows = db.exec(select(KnowledgeVector).where(KnowledgeVector.deployment == self.embedder.deployment)).all()
            return {
                r.slug: json.loads(r.vector_json)
                for r in rows
                if r.slug in texts and r.content_hash == _hash(texts[r.slug])
            }

    def _store(self, vectors: dict[str, list[float]], texts: dict[str, str]) -> None:
        from opkalla_portal.db import session_scope
        from opkalla_portal.models import KnowledgeVector

        with session_scope() as db:
            for slug, vector in vectors.items():
                row = db.exec(
                    select(KnowledgeVector).where(
                        KnowledgeVector.deployment == self.embedder.deployment, KnowledgeVector.slug == slug
                    )
                ).first()
                row = row or KnowledgeVector(
                    deployment=self.embedder.deployment, slug=slug, content_hash="", vector_json="[]"
                )
                row.content_hash, row.vector_json = _hash(texts[slug]), json.dumps(vector)
                db.add(row)

    async def scores(self, question: str) -> dict[str, float]:
        """slug → cosine similarity of the question to the article; {} when embeddings fail."""
        return (await self.similarity(question)).articles

    async def similarity(self, question: str) -> Similarity:
        """The question's similarity to the articles and to their "also ask" lines."""
        try:
            await self.ensure_indexed()
            [vector] = await self.embedder.embed([question])
        except MicrosoftError as error:
            log.warning("embeddings unavailable, ranking by BM25 alone: %s", error)
            return Similarity({}, {})
        keys, matrix = self._matrix()
        query = np.asarray(vector, dtype=np.float64)
        norm = float(np.linalg.norm(query))
        found = (matrix @ (query / norm)).tolist() if norm else [0.0] * len(keys)
        articles: dict[str, float] = {}
        also_ask: dict[str, float] = {}
        for key, value in zip(keys, found, strict=True):
            slug, ask, _ = key.partition(ASK_KEY)
            if ask:
                also_ask[slug] = max(also_ask.get(slug, -1.0), value)
            else:
                articles[slug] = value
        return Similarity(articles, also_ask)

    def _matrix(self) -> tuple[list[str], np.ndarray]:
        """The stored vectors as unit rows of one matrix (built once: a question is one product)."""
        if self._rows is None or len(self._rows[0]) != len(self._vectors):
            keys = list(self._vectors)
            matrix = np.asarray([self._vectors[k] for k in keys], dtype=np.float64)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            self._rows = keys, matrix / np.where(norms == 0, 1.0, norms)
        return self._rows


_rankers: dict[tuple[int, str], VectorRanker] = {}


def default_ranker() -> VectorRanker | None:
    """The process's ranker for the configured embeddings deployment, or None (BM25 only)."""
    from opkalla_portal.services.microsoft_clients import microsoft

    embeddings = getattr(microsoft(), "embeddings", None)
    if embeddings is None or not embeddings.configured:
        return None
    key = (id(embeddings), embeddings.deployment)
    if key not in _rankers:
        _rankers[key] = VectorRanker(embeddings)
    return _rankers[key]
