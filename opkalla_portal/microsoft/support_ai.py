"""Azure OpenAI chat completions, streamed, grounded on passages the portal retrieved.

Passage convention (the emulator and the portal agree on it): one system message whose
content contains blocks ``[doc1] <title>\\n<passage text>\\n\\n[doc2] ...``; the last user
message is the question. Replies cite passages as ``[docN]`` (``citations[N-1]``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, AsyncIterator, Sequence

from .http import ServiceClient, error_from_response

SYSTEM_PREAMBLE = (
    "You are Opkalla's support assistant. Answer only from the sources below and cite each "
    "sentence's source as [docN]. If the sources do not answer the question, say you don't know."
)
CITATION_RE = re.compile(r"\[doc(\d+)\]")


@dataclass(frozen=True)
class Passage:
    """A retrieved source the answer may cite."""

    title: str
    content: str
    url: str = ""


def build_messages(question: str, passages: Sequence[Passage],
                   history: Sequence[dict[str, str]] = ()) -> list[dict[str, str]]:
    """Messages in the passage convention above (history is earlier user/assistant turns)."""
    blocks = "\n\n".join(f"[doc{n}] {p.title}\n{p.content}" for n, p in enumerate(passages, start=1))
    return [{"role": "system", "content": f"{SYSTEM_PREAMBLE}\n\n{blocks}"}, *history,
            {"role": "user", "content": question}]


class ChatStream:
    """Async iterator of text deltas; ``citations`` is filled as the stream is read.

    ``citations`` holds what the service returned in ``context.citations`` or, failing
    that, the passages referenced as ``[docN]`` in the text.
    """

    def __init__(self, client: "SupportAIClient", messages: list[dict], passages: Sequence[Passage]) -> None:
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
        self.citations = service_citations or self._cited_passages()

    def _cited_passages(self) -> list[dict]:
        cited = []
        for n in sorted({int(m) for m in CITATION_RE.findall(self.text)}):
            if 1 <= n <= len(self._passages):
                p = self._passages[n - 1]
                cited.append({"doc": f"doc{n}", "title": p.title, "content": p.content, "url": p.url})
        return cited


class SupportAIClient(ServiceClient):
    """Chat completions for one Azure OpenAI deployment."""

    flavor = "openai"

    def __init__(self, *args: Any, deployment: str, api_version: str = "2024-02-01", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deployment = deployment
        self.api_version = api_version

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.deployment)

    def answer(self, question: str, passages: Sequence[Passage],
               history: Sequence[dict[str, str]] = ()) -> ChatStream:
        """Stream an answer grounded on ``passages``: ``async for delta in stream``."""
        return ChatStream(self, build_messages(question, passages, history), passages)

    def stream_chat(self, messages: list[dict], passages: Sequence[Passage] = ()) -> ChatStream:
        return ChatStream(self, list(messages), passages)

    async def _stream(self, messages: list[dict]) -> AsyncIterator[dict]:
        """POST with ``stream: true`` and yield each SSE ``data:`` JSON chunk until [DONE]."""
        path = f"/openai/deployments/{self.deployment}/chat/completions"
        body = {"messages": messages, "stream": True, "temperature": 0}
        headers = {"Accept": "text/event-stream", **(await self._auth_headers())}
        async with self._http.stream("POST", self.url(path), params={"api-version": self.api_version},
                                     json=body, headers=headers, timeout=self.timeout) as response:
            if response.status_code >= 400:
                await response.aread()
                raise error_from_response(response, self.flavor)
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue  # SSE comments, blank separators, event: lines
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                if data:
                    yield json.loads(data)
