"""Azure OpenAI chat completions, emulated extractively: the reply is made ONLY of
sentences from the source passages the caller sent, each cited as [docN]."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ... import vocabulary
from . import minilm
from .context import Emulator, json_body, openai_error, service_endpoint
from .settings import EMULATOR_EMBEDDINGS_DEPLOYMENT, EMULATOR_OPENAI_DEPLOYMENT

MIN_SHARE = 0.1  # of the question's (weighted) concepts, in the best sentence
DOC_BLOCK = re.compile(r"\[doc(\d+)\]\s*([^\n]*)\n(.*?)(?=\n\s*\[doc\d+\]|\Z)", re.DOTALL)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
DONT_KNOW = (
    "I don't know the answer to that from the available help articles. Please contact support so a person can help."
)
MAX_SENTENCES = 3
# The sources arrive best first (retrieval's order); like a model reading them, the composer leans on
# the first: a sentence of docN counts RANK_PRIOR^(N-1) of its match.
RANK_PRIOR = 0.85
# ...and quotes the first source's best sentence whenever it scores at least this share of the best one.
FIRST_SOURCE_FLOOR = 0.3
# A question's concept that no sentence of the sources holds ("gmail" in "forward my work email to my gmail")
# cannot choose a sentence; it weighs this share of a concept held by no sentence in MIN_SHARE's total (round 5:
# at full weight one such word made the composer say "I don't know" over the very article retrieval found).
ABSENT_SHARE = 0.5


def terms(text: str) -> set[str]:
    """The concepts of a text, normalised exactly as the portal's retrieval does (synonyms and
    the portal's vocabulary meet: "reduce seats" and "lower the quantity" share two concepts)."""
    return set(vocabulary.concepts(text))


def parse_passages(messages: list[dict]) -> list[tuple[int, str, str]]:
    """[(N, title, text)] from ``[docN] title\\ntext`` blocks in system messages."""
    found = []
    for m in messages:
        if m.get("role") == "system" and isinstance(m.get("content"), str):
            for n, title, text in DOC_BLOCK.findall(m["content"]):
                found.append((int(n), title.strip(), text.strip()))
    return found


def compose_answer(messages: list[dict]) -> tuple[str, list[dict]]:
    """(answer text, citations) — citations[N-1] is docN, as Azure's "on your data" does.

    Each sentence of the passages is scored by the question's concepts it holds, each weighted
    by how rare it is among the passages' sentences (a word every sentence has, like
    "subscription", says little about which sentence answers); the passage's title adds a
    little. The best sentences (up to three) are quoted in the passages' own order, the first
    source's best among them when it matches at all well (`FIRST_SOURCE_FLOOR`).
    """
    passages = parse_passages(messages)
    question = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    q_terms = terms(question if isinstance(question, str) else "")
    citations = [{"content": text, "title": title, "chunk_id": "0"} for _, title, text in sorted(passages)]
    sentences = [
        (n, title, position, sentence.strip(), terms(sentence))
        for n, title, text in passages
        for position, sentence in enumerate(SENTENCE.split(text.replace("\n", " ")))
        if sentence.strip()
    ]
    if not q_terms or not sentences:
        return DONT_KNOW, citations
    count = len(sentences)
    found_in = {t: sum(t in s[4] for s in sentences) for t in q_terms}
    weight = {t: math.log((count + 1) / (0.5 + n)) * (1.0 if n else ABSENT_SHARE) for t, n in found_in.items()}
    total = sum(weight.values())
    scored = []
    title_terms = {title: terms(title) for _, title, _ in passages}
    for n, title, position, sentence, s_terms in sentences:
        shared = q_terms & s_terms
        titled = q_terms & title_terms[title] - shared
        # A sentence must itself match (a question concept in its passage's title counts too), or belong to
        # a passage whose title does: that article is about what was asked (its first sentence wins the tie).
        if shared or titled:
            score = sum(weight[t] for t in shared) + sum(weight[t] for t in titled)
            score *= RANK_PRIOR ** (n - 1)
            scored.append((score / total, len(shared), -n, -position, sentence, n))
    if not scored:
        return DONT_KNOW, citations
    scored.sort(reverse=True)
    best = scored[0][0]
    # Relevance threshold: the best sentence must hold a good share of what the question asks.
    if best < MIN_SHARE:
        return DONT_KNOW, citations
    chosen = [s for s in scored if s[0] >= best * 0.7][:MAX_SENTENCES]
    # Like a model reading its sources best first, the answer draws on the best source when it has a
    # sentence that matches the question: its best sentence is quoted even if another source's scores higher.
    first = next((s for s in scored if s[5] == min(p[0] for p in passages)), None)
    if first is not None and first not in chosen and first[0] >= best * FIRST_SOURCE_FLOOR:
        chosen = chosen[: MAX_SENTENCES - 1] + [first]
    chosen.sort(key=lambda s: (-s[2], -s[3]))  # keep the passages' own order
    return " ".join(f"{sentence} [doc{n}]" for *_, sentence, n in chosen), citations


EMBEDDING_DIMENSIONS = minilm.DIMENSIONS  # 384: all-MiniLM-L6-v2


def openai_routes(emulator: Emulator) -> list[Route]:
    @service_endpoint(emulator, "openai")
    async def embeddings(request: Request) -> Response:
        # Shapes: Azure/azure-rest-api-specs AzureOpenAI inference stable/2024-02-01 (GetEmbeddings).
        if not request.query_params.get("api-version"):
            return openai_error(404, "404", "Resource not found")
        if request.path_params["deployment"] != EMULATOR_EMBEDDINGS_DEPLOYMENT:
            return openai_error(404, "DeploymentNotFound", "The API deployment for this resource does not exist.")
        body = await json_body(request)
        inputs = body.get("input") if isinstance(body, dict) else None
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) and t for t in inputs):
            return openai_error(400, "BadRequest", "'input' is a required property")
        if len(inputs) > 2048:
            return openai_error(400, "BadRequest", "Too many inputs. The max number of inputs is 2048.")
        try:
            # A real model (numpy, seconds for a batch of long texts): off the event loop, which also
            # serves the portal in demo mode.
            vectors, tokens = await asyncio.to_thread(lambda: (minilm.embed(inputs), minilm.token_count(inputs)))
        except minilm.ModelUnavailable as missing:
            # The deployment has no model to run: the portal ranks by BM25 alone (it logs the failure).
            return openai_error(404, "DeploymentNotFound", str(missing))
        return JSONResponse(
            {
                "object": "list",
                "model": minilm.MODEL_NAME,
                "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    @service_endpoint(emulator, "openai")
    async def chat_completions(request: Request) -> Response:
        if not request.query_params.get("api-version"):
            return openai_error(404, "404", "Resource not found")
        deployment = request.path_params["deployment"]
        if deployment != EMULATOR_OPENAI_DEPLOYMENT:
            return openai_error(404, "DeploymentNotFound", "The API deployment for this resource does not exist.")
        body = await json_body(request)
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return openai_error(400, "BadRequest", "'messages' is a required property")
        answer, citations = compose_answer(messages)
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": deployment,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": answer, "context": {"citations": citations}},
                        }
                    ],
                    "usage": {
                        "prompt_tokens": sum(len(str(m.get("content", "")).split()) for m in messages),
                        "completion_tokens": len(answer.split()),
                        "total_tokens": 0,
                    },
                }
            )

        def chunk(delta: dict, finish: str | None = None) -> str:
            return (
                "data: "
                + json.dumps(
                    {
                        "id": completion_id,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": deployment,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }
                )
                + "\n\n"
            )

        async def events():
            yield chunk({"role": "assistant", "context": {"citations": citations}})
            for piece in re.findall(r"\S+\s*", answer):
                yield chunk({"content": piece})
            yield chunk({}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return [
        Route("/deployments/{deployment}/chat/completions", chat_completions, methods=["POST"]),
        Route("/deployments/{deployment}/embeddings", embeddings, methods=["POST"]),
    ]
