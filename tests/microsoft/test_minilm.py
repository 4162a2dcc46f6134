"""The emulator's embeddings model: all-MiniLM-L6-v2 in numpy, held to sentence-transformers' own
vectors (tests/microsoft/minilm/reference.json, made with PyTorch outside the project by
make_reference.py beside it)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

from opkalla_portal.microsoft.emulator import EmulatorStore, build_emulator_app, minilm
from opkalla_portal.microsoft.emulator.settings import (
    EMULATOR_EMBEDDINGS_DEPLOYMENT,
    EMULATOR_OPENAI_KEY,
    emulator_settings,
)

REFERENCE = json.loads((Path(__file__).parent / "minilm" / "reference.json").read_text())
CASES = REFERENCE["cases"]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("OPKALLA_MINILM_CACHE", str(tmp_path))
    monkeypatch.setattr(minilm, "_memo", type(minilm._memo)())
    return minilm.cache_dir()


def test_the_tokenizer_gives_sentence_transformers_token_ids():
    tokenizer = minilm.model().tokenizer
    for case in CASES:  # accents, punctuation, an e-mail address, Japanese, unknown words, 256-token cut
        assert tokenizer.encode(case["text"]) == case["token_ids"], case["text"]
    assert max(len(c["token_ids"]) for c in CASES) == minilm.MAX_TOKENS


def test_the_vectors_are_sentence_transformers_vectors():
    texts = [c["text"] for c in CASES]
    expected = np.array([c["embedding"] for c in CASES])
    for vectors in (minilm.model().embed(texts), np.array([minilm.model().embed([t])[0] for t in texts])):
        assert vectors.shape == (len(CASES), minilm.DIMENSIONS)
        cosine = (vectors * expected).sum(1) / np.linalg.norm(expected, axis=1)
        assert cosine.min() > 0.999, dict(zip(texts, cosine.round(6), strict=True))
        # the same computation, not a close one (tanh's GELU would be 2.5e-4 off): float32 rounding only
        assert np.abs(vectors - expected).max() < 1e-5
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_are_near_and_other_topics_far(cache):
    a, b, c, d = map(
        np.array,
        minilm.embed(
            [
                "give a user a license",
                "assign a licence to one of our staff",
                "restore files deleted from OneDrive",
                "get back a document I removed from my OneDrive",
            ]
        ),
    )
    assert a @ b > 0.6 and c @ d > 0.6  # shares few words, means the same
    assert max(a @ c, a @ d, b @ c, b @ d) < 0.3


def test_long_texts_are_kept_on_disk_and_read_back_unchanged(cache, monkeypatch):
    article = next(c["text"] for c in CASES if len(c["text"]) >= minilm.CACHE_MIN_CHARS)
    question = CASES[0]["text"]
    first = minilm.embed([article, question])
    assert [p.suffix for p in cache.iterdir()] == [".f32"]  # the article only: questions take milliseconds
    minilm._memo.clear()  # as another process would
    with monkeypatch.context() as patch:
        patch.setattr(minilm.model(), "embed", lambda texts: pytest.fail(f"computed again: {texts}"))
        assert minilm.embed([article]) == [first[0]]
    next(cache.iterdir()).write_bytes(b"\0" * 10)  # a damaged file is computed again
    minilm._memo.clear()
    # computed alone, not beside the question: the padding of a batch moves the last digit at most
    assert np.allclose(minilm.embed([article])[0], first[0], atol=1e-6)


def test_the_model_is_read_once_when_many_threads_ask_at_once(monkeypatch):
    monkeypatch.setattr(minilm, "_model", None)
    built, original = [], minilm.MiniLM

    class Counting(original):
        def __init__(self, directory):
            built.append(directory)
            super().__init__(directory)

    monkeypatch.setattr(minilm, "MiniLM", Counting)
    models = []
    threads = [threading.Thread(target=lambda: models.append(minilm.model())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len({id(m) for m in models}) == 1


async def _post(json_body: dict) -> httpx.Response:
    app = build_emulator_app(EmulatorStore(":memory:"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator") as http:
        url = f"{emulator_settings('http://emulator').openai_url}/openai/deployments/"
        return await http.post(
            url + f"{EMULATOR_EMBEDDINGS_DEPLOYMENT}/embeddings",
            params={"api-version": "2024-02-01"},
            headers={"api-key": EMULATOR_OPENAI_KEY},
            json=json_body,
        )


async def test_the_endpoint_answers_with_the_models_vectors(cache):
    response = await _post({"input": [CASES[0]["text"], CASES[2]["text"]]})
    body = response.json()
    assert response.status_code == 200 and body["model"] == "all-MiniLM-L6-v2"
    assert body["usage"]["prompt_tokens"] == len(CASES[0]["token_ids"]) + len(CASES[2]["token_ids"])
    for item, case in zip(body["data"], (CASES[0], CASES[2]), strict=True):
        assert np.dot(item["embedding"], case["embedding"]) > 0.999


async def test_without_the_models_files_the_deployment_is_not_found(monkeypatch):
    def missing():
        raise minilm.ModelUnavailable("all-MiniLM-L6-v2 is not installed")

    monkeypatch.setattr(minilm, "_model", None)
    monkeypatch.setattr(minilm, "model_dir", missing)
    response = await _post({"input": ["reset a password"]})
    assert response.status_code == 404 and response.json()["error"]["code"] == "DeploymentNotFound"


def test_a_retried_request_waits_for_the_first_and_computes_nothing_again(cache, monkeypatch):
    computed, original = [], minilm.model().embed

    def slow(texts):
        computed.append(list(texts))
        return original(texts)

    monkeypatch.setattr(minilm.model(), "embed", slow)
    articles = [c["text"] + " (copy)" for c in CASES[:4]]  # as the portal's batch of articles
    results = []
    threads = [threading.Thread(target=lambda: results.append(minilm.embed(articles))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert computed == [articles] and results[0] == results[1] == results[2]
