"""Production robustness of Spark AI: 429 retried with Retry-After, the content filter as a
polite refusal, embeddings (hybrid retrieval) and the rate limit shared across workers."""

import json

import httpx
import pytest

from opkalla_portal.microsoft import MicrosoftClients, MicrosoftSettings
from opkalla_portal.microsoft.emulator.openai_api import EMBEDDING_DIMENSIONS
from opkalla_portal.microsoft.http import RetryPolicy
from opkalla_portal.microsoft.support_ai import CONTENT_FILTER_MESSAGE, Passage
from opkalla_portal.services import support

BASE = "https://contoso.openai.azure.com/openai"


def _sse(*chunks: dict) -> bytes:
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


def _delta(content=None, finish=None) -> dict:
    delta = {"content": content} if content is not None else {}
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _clients(handler, sleeps: list[float]) -> MicrosoftClients:
    async def sleep(seconds):
        sleeps.append(seconds)

    settings = MicrosoftSettings(openai_url=BASE, openai_deployment="gpt", openai_key="k")
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return MicrosoftClients(settings, http=http, retry=RetryPolicy(max_attempts=3, sleep=sleep))


async def test_a_429_on_the_chat_stream_is_retried_after_retry_after():
    calls, sleeps = [], []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:  # Azure OpenAI: 429 with Retry-After (seconds) before any token
            return httpx.Response(
                429, headers={"Retry-After": "7"}, json={"error": {"code": "429", "message": "Rate limit is exceeded."}}
            )
        return httpx.Response(
            200,
            headers={"Content-Type": "text/event-stream"},
            content=_sse(_delta("Reset it in My Profile. [doc1]"), _delta(finish="stop")),
        )

    clients = _clients(handler, sleeps)
    stream = clients.support_ai.answer("reset?", [Passage("Profile", "Reset it in My Profile.")])
    text = "".join([d async for d in stream])
    assert text == "Reset it in My Profile. [doc1]"
    assert len(calls) == 2 and sleeps == [7.0]


async def test_a_429_that_persists_becomes_a_throttled_error():
    from opkalla_portal.microsoft.errors import ThrottledError

    sleeps = []
    clients = _clients(
        lambda r: httpx.Response(429, headers={"Retry-After": "2"}, json={"error": {"code": "429", "message": "busy"}}),
        sleeps,
    )
    with pytest.raises(ThrottledError):
        [d async for d in clients.support_ai.answer("q", [Passage("t", "c")])]
    assert sleeps == [2.0, 2.0]  # max_attempts=3: two waits, then the error


async def test_content_filter_finish_reason_becomes_a_polite_refusal(seeded, monkeypatch):
    sleeps = []
    clients = _clients(
        lambda r: httpx.Response(
            200,
            headers={"Content-Type": "text/event-stream"},
            content=_sse(_delta("Partial words"), _delta(finish="content_filter")),
        ),
        sleeps,
    )
    monkeypatch.setattr(support, "microsoft", lambda: clients)
    answer = support.Answer("How do I reset a user's password?", vectors=None)
    [d async for d in answer.deltas()]
    assert answer.error == "" and answer.refused
    assert answer.display() == (CONTENT_FILTER_MESSAGE, [])
    assert "Partial words" not in answer.display()[0]


async def test_a_prompt_refused_by_the_content_filter_is_a_polite_refusal(seeded, monkeypatch):
    # Azure OpenAI answers a filtered prompt with 400 and error.code "content_filter".
    clients = _clients(
        lambda r: httpx.Response(
            400,
            json={
                "error": {
                    "code": "content_filter",
                    "message": "The response was filtered due to the prompt triggering "
                    "Azure OpenAI's content management policy.",
                }
            },
        ),
        [],
    )
    monkeypatch.setattr(support, "microsoft", lambda: clients)
    answer = support.Answer("How do I reset a user's password?", vectors=None)
    [d async for d in answer.deltas()]
    assert answer.display() == (CONTENT_FILTER_MESSAGE, [])


@pytest.fixture
def emulator(emulator_clients):
    return emulator_clients


async def test_emulator_embeddings_follow_the_azure_shape_and_are_deterministic(emulator):
    # Request/response: Azure/azure-rest-api-specs AzureOpenAI inference stable/2024-02-01 examples/embeddings.json
    deployment = emulator.settings.openai_embeddings_deployment
    url = f"{emulator.settings.openai_url}/openai/deployments/{deployment}/embeddings"
    response = await emulator.http.post(
        url,
        params={"api-version": "2024-02-01"},
        headers={"api-key": emulator.settings.openai_key},
        json={"input": ["give a user a license", "assign a licence to users", "restore a deleted OneDrive file"]},
    )
    body = response.json()
    assert response.status_code == 200 and [d["index"] for d in body["data"]] == [0, 1, 2]
    first, second, other = (d["embedding"] for d in body["data"])
    assert len(first) == EMBEDDING_DIMENSIONS == 384 and body["model"] == "all-MiniLM-L6-v2"

    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))  # unit vectors

    assert cosine(first, second) > 0.6 > 0.2 > cosine(first, other)  # the same meaning in other words
    again = await emulator.http.post(
        url,
        params={"api-version": "2024-02-01"},
        headers={"api-key": emulator.settings.openai_key},
        json={"input": "give a user a license"},
    )
    assert again.json()["data"][0]["embedding"] == first  # deterministic
    missing = await emulator.http.post(
        url.replace("support-embeddings", "nope"),
        params={"api-version": "2024-02-01"},
        headers={"api-key": emulator.settings.openai_key},
        json={"input": ["x"]},
    )
    assert missing.status_code == 404
    empty = await emulator.http.post(
        url, params={"api-version": "2024-02-01"}, headers={"api-key": emulator.settings.openai_key}, json={}
    )
    assert empty.status_code == 400


async def test_article_vectors_are_stored_once_and_hybrid_ranking_answers(seeded, emulator):
    from sqlmodel import func, select

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import KnowledgeVector
    from opkalla_portal.services.knowledge import load_articles
    from opkalla_portal.services.knowledge_vectors import VectorRanker, article_texts

    calls = []
    original = emulator.embeddings.embed

    async def counting(texts):
        calls.append(len(texts))
        return await original(texts)

    emulator.embeddings.embed = counting
    ranker = VectorRanker(emulator.embeddings)
    scores = await ranker.scores("Where do I assign a license to a colleague?")
    with session_scope() as db:
        stored = db.exec(select(func.count()).select_from(KnowledgeVector)).one()
    # one vector per article and per "Customers also ask" line
    texts = len(load_articles()) + sum(len(a.also_ask) for a in load_articles())
    assert stored == len(article_texts()) == texts and sum(calls) == texts + 1
    # all-MiniLM-L6-v2: related articles are nearer than unrelated ones
    assert scores["portal-manage-licenses"] > scores["teams-meeting-recordings"]
    assert scores["assign-licenses-admin-center"] > scores["onedrive-restore-files"]
    calls.clear()
    await VectorRanker(emulator.embeddings).scores("anything")  # another worker: reads the stored vectors
    assert calls == [1]
    answer = await support.Answer.prepare("Where do I assign a license to a colleague?", vectors=ranker)
    assert answer.hits and answer.hits[0].slug in {"portal-manage-licenses", "assign-licenses-admin-center"}


async def test_embeddings_failure_falls_back_to_bm25(seeded, emulator):
    from opkalla_portal.microsoft.errors import UnavailableError
    from opkalla_portal.services.knowledge_vectors import VectorRanker

    async def failing(texts):
        raise UnavailableError()

    emulator.embeddings.embed = failing
    answer = await support.Answer.prepare(
        "How do I reset a user's password?", vectors=VectorRanker(emulator.embeddings)
    )
    assert answer.passages  # answered from BM25 alone


async def test_two_workers_storing_vectors_at_once_both_answer(seeded, emulator):
    from opkalla_portal.services.knowledge_vectors import VectorRanker

    first, second = VectorRanker(emulator.embeddings), VectorRanker(emulator.embeddings)
    second._load = lambda texts: {}  # it looked before the first stored: it embeds and writes the same rows
    assert await first.scores("reset a password")
    assert await second.scores("reset a password")  # updates the first's rows (a lost insert race is ignored)


async def test_a_question_worded_like_an_also_ask_line_is_nearest_that_article(seeded, emulator):
    """Round 12: each "Customers also ask" line has its own vector; a question worded like one is
    nearer that line than the article's whole text, and nearer it than any other article's lines."""
    from opkalla_portal.services.knowledge import article_by_slug
    from opkalla_portal.services.knowledge_vectors import VectorRanker

    line = article_by_slug("nce-cancellation-window").also_ask[0]
    similarity = await VectorRanker.in_memory(emulator.embeddings).similarity(line)
    assert similarity.also_ask["nce-cancellation-window"] > 0.99  # the line itself
    assert similarity.also_ask["nce-cancellation-window"] > similarity.articles["nce-cancellation-window"]
    assert max(similarity.also_ask, key=similarity.also_ask.get) == "nce-cancellation-window"
    assert set(similarity.also_ask) == set(similarity.articles)  # every article has its lines
