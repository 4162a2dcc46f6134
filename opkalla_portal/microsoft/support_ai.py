"""Azure OpenAI chat completions, streamed, grounded on passages the portal retrieved.

Passage convention (the emulator and the portal agree on it): one system message whose
content contains blocks ``[doc1] <title>\\n<passage text>\\n\\n[doc2] ...``; the last user
message is the question. Replies cite passages as ``[docN]`` (``citations[N-1]``).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import MicrosoftError, ValidationError
from .http import RETRY_STATUSES, ServiceClient, error_from_response, parse_retry_after

SYSTEM_PREAMBLE = (
    "You are Opkalla's support assistant. Answer only from the sources below and cite each "
    "sentence's source as [docN]. If the sources do not answer the question, say you don't know."
)
CITATION_RE = re.compile(r"\[doc(\d+)\]")
# Azure OpenAI's content filter: a prompt it refuses is a 400 with this code; a completion it
# stops ends with finish_reason "content_filter" (inference 2024-02-01: finish_reason enum and
# the "content_filter" error code of the Azure OpenAI content filtering documentation).
CONTENT_FILTER = "content_filter"
CONTENT_FILTER_MESSAGE = (
    "I can't help with that request. Please rephrase your question about Microsoft 365, "
    "Azure or the portal, or contact support@opkalla.com."
)


class ContentFiltered(MicrosoftError):
    """Azure OpenAI's content filter refused the prompt or stopped the answer."""

    def __init__(self) -> None:
        super().__init__(CONTENT_FILTER_MESSAGE, code=CONTENT_FILTER)


@dataclass(frozen=True)
class Passage:
    """A retrieved source the answer may cite."""

    title: str
    content: str
    url: str = ""


def build_messages(
    question: str, passages: Sequence[Passage], history: Sequence[dict[str, str]] = ()
) -> list[dict[str, str]]:
    """Messages in the passage convention above (history is earlier user/assistant turns)."""
    blocks = "\n\n".join(f"[doc{n}] {p.title}\n{p.content}" for n, p in enumerate(passages, start=1))
    return [
        {"role": "system", "content": f"{SYSTEM_PREAMBLE}\n\n{blocks}"},
        *history,
        {"role": "user", "content": question},
    ]


class ChatStream:
    """Async iterator of text deltas; ``citations`` is filled as the stream is read.

    ``citations`` holds what the service returned in ``context.citations`` or, failing
    that, the passages referenced as ``[docN]`` in the text.
    """

    def __init__(self, client: SupportAIClient, messages: list[dict], passages: Sequence[Passage]) -> None:
        self._client = client
        self._messages = messages
        self._passages = list(passages)
        self.citations: list[dict] = []
        self.text = ""

    def __aiter__(self) -> AsyncIterator[str]:
        return self._run()

    async def _run(self) -> AsyncIterator[str]:
        service_citations: list[dict] = []
        async for chunk in self._client._stream(self._messages):
            for choice in chunk.get("choices", []):
                delta = choice.get("delta") or {}
                context = delta.get("context") or {}
                service_citations.extend(context.get("citations") or [])
                content = delta.get("content")
                if content:
                    self.text += content
                    yield content
                if choice.get("finish_reason") == CONTENT_FILTER:
                    raise ContentFiltered()
        self.citations = service_citations or self._cited_passages()

    def _cited_passages(self) -> list[dict]:
        cited = []
        for n in sorted({int(m) for m in CITATION_RE.findall(self.text)}):
            if 1 <= n <= len(self._passages):
                p = self._passages[n - 1]
                cited.append({"doc": f"doc{n}", "title": p.title, "content": p.content, "url": p.url})
        return cited


class AzureOpenAIDeployment(ServiceClient):
    """A client of one Azure OpenAI deployment: `{endpoint}/openai/deployments/{deployment}/...`."""

    flavor = "openai"

    def __init__(self, *args: Any, deployment: str, api_version: str = "2024-02-01", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deployment = deployment
        self.api_version = api_version

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.deployment)


class SupportAIClient(AzureOpenAIDeployment):
    """Chat completions for one Azure OpenAI deployment."""

    def answer(self, question: str, passages: Sequence[Passage], history: Sequence[dict[str, str]] = ()) -> ChatStream:
        """Stream an answer grounded on ``passages``: ``async for delta in stream``."""
        return ChatStream(self, build_messages(question, passages, history), passages)

    def stream_chat(self, messages: list[dict], passages: Sequence[Passage] = ()) -> ChatStream:
        return ChatStream(self, list(messages), passages)

    async def _stream(self, messages: list[dict]) -> AsyncIterator[dict]:
        """POST with ``stream: true`` and yield each SSE ``data:`` JSON chunk until [DONE]."""
        path = f"/openai/deployments/{self.deployment}/chat/completions"
        body = {"messages": messages, "stream": True, "temperature": 0}
        attempt = 0
        while True:
            attempt += 1
            headers = {"Accept": "text/event-stream", **(await self._auth_headers())}
            async with self._http.stream(
                "POST",
                self.url(path),
                params={"api-version": self.api_version},
                json=body,
                headers=headers,
                timeout=self.timeout,
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    # 429/503 arrive before any token: nothing was shown, so asking again is safe.
                    if response.status_code in RETRY_STATUSES and attempt < self.retry.max_attempts:
                        wait = parse_retry_after(response.headers.get("Retry-After"))
                        await self.retry.sleep(
                            min(self.retry.backoff(attempt) if wait is None else wait, self.retry.max_retry_after)
                        )
                        continue
                    error = error_from_response(response, self.flavor)
                    if isinstance(error, ValidationError) and error.code == CONTENT_FILTER:
                        raise ContentFiltered() from error
                    raise error
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue  # SSE comments, blank separators, event: lines
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    if data:
                        yield json.loads(data)
                return


class EmbeddingsClient(AzureOpenAIDeployment):
    """Embeddings for one Azure OpenAI deployment (e.g. text-embedding-3-small).

    POST {endpoint}/openai/deployments/{deployment}/embeddings?api-version=2024-02-01 with
    {"input": [texts]}; the answer is {"data": [{"index": i, "embedding": [floats]}], ...}
    (Azure/azure-rest-api-specs, AzureOpenAI inference stable/2024-02-01, examples/embeddings.json).
    """

    BATCH = 16  # inputs per request (Azure accepts arrays; small batches keep requests short)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.BATCH):
            batch = list(texts[start : start + self.BATCH])
            response = await self.request(
                "POST",
                f"/openai/deployments/{self.deployment}/embeddings",
                params={"api-version": self.api_version},
                json={"input": batch},
                idempotent=True,
            )
            data = sorted(response.json().get("data") or [], key=lambda d: d.get("index", 0))
            if len(data) != len(batch):
                raise MicrosoftError("The embeddings service returned an unexpected answer.")
            vectors.extend([float(x) for x in d["embedding"]] for d in data)
        return vectors
