"""Azure OpenAI chat completions, emulated extractively: the reply is made ONLY of
sentences from the source passages the caller sent, each cited as [docN]."""
from __future__ import annotations

import json
import re
import time
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..config import EMULATOR_OPENAI_DEPLOYMENT
from .context import Emulator, json_body, openai_error, service_endpoint

DOC_BLOCK = re.compile(r"\[doc(\d+)\]\s*([^\n]*)\n(.*?)(?=\n\s*\[doc\d+\]|\Z)", re.DOTALL)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = set("""a an and are as at be by can do does for from how i if in is it its me my of on or our so that the
their then there these this to us was we what when where which who why will with you your i'm can't don't
please want need should would could get after before than also""".split())
DONT_KNOW = ("I don't know the answer to that from the available help articles. "
             "Please contact support so a person can help.")
MAX_SENTENCES = 3


def stem(word: str) -> str:
    """Crude suffix stripping so "reduce", "reducing" and "reduction" meet."""
    for suffix in ("tion", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def terms(text: str) -> set[str]:
    return {stem(w) for w in WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1}


def parse_passages(messages: list[dict]) -> list[tuple[int, str, str]]:
    """[(N, title, text)] from ``[docN] title\\ntext`` blocks in system messages."""
    found = []
    for m in messages:
        if m.get("role") == "system" and isinstance(m.get("content"), str):
            for n, title, text in DOC_BLOCK.findall(m["content"]):
                found.append((int(n), title.strip(), text.strip()))
    return found


def compose_answer(messages: list[dict]) -> tuple[str, list[dict]]:
    """(answer text, citations) — citations[N-1] is docN, as Azure's "on your data" does."""
    passages = parse_passages(messages)
    question = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    q_terms = terms(question if isinstance(question, str) else "")
    citations = [{"content": text, "title": title, "chunk_id": "0"}
                 for _, title, text in sorted(passages)]
    scored = []
    for n, title, text in passages:
        title_terms = terms(title)
        for position, sentence in enumerate(SENTENCE.split(text.replace("\n", " "))):
            s_terms = terms(sentence)
            shared = len(q_terms & s_terms)
            if shared:  # a sentence must itself match; its passage's title adds weight
                overlap = shared + len(q_terms & title_terms)
                scored.append((overlap, -n, -position, sentence.strip(), n))
    if not q_terms or not scored:
        return DONT_KNOW, citations
    scored.sort(reverse=True)
    best = scored[0][0]
    # Relevance threshold: at least two shared terms, or half the question's terms.
    needed = min(2.0, max(1.0, len(q_terms) / 2))
    if best < needed:
        return DONT_KNOW, citations
    chosen = [s for s in scored if s[0] >= max(needed, best * 0.75)][:MAX_SENTENCES]
    chosen.sort(key=lambda s: (-s[1], -s[2]))  # keep the passages' own order
    return " ".join(f"{sentence} [doc{n}]" for _, _, _, sentence, n in chosen), citations


def openai_routes(emulator: Emulator) -> list[Route]:
    @service_endpoint(emulator, "openai")
    async def chat_completions(request: Request) -> Response:
        if not request.query_params.get("api-version"):
            return openai_error(404, "404", "Resource not found")
        deployment = request.path_params["deployment"]
        if deployment != EMULATOR_OPENAI_DEPLOYMENT:
            return openai_error(404, "DeploymentNotFound",
                                "The API deployment for this resource does not exist.")
        body = await json_body(request)
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return openai_error(400, "BadRequest", "'messages' is a required property")
        answer, citations = compose_answer(messages)
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        if not body.get("stream"):
            return JSONResponse({
                "id": completion_id, "object": "chat.completion", "created": created, "model": deployment,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": answer, "context": {"citations": citations}}}],
                "usage": {"prompt_tokens": sum(len(str(m.get("content", "")).split()) for m in messages),
                          "completion_tokens": len(answer.split()), "total_tokens": 0},
            })

        def chunk(delta: dict, finish: str | None = None) -> str:
            return "data: " + json.dumps({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                                          "model": deployment, "choices": [{"index": 0, "delta": delta,
                                                                            "finish_reason": finish}]}) + "\n\n"

        async def events():
            yield chunk({"role": "assistant", "context": {"citations": citations}})
            for piece in re.findall(r"\S+\s*", answer):
                yield chunk({"content": piece})
            yield chunk({}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return [Route("/deployments/{deployment}/chat/completions", chat_completions, methods=["POST"])]
