"""Streaming chat completions grounded on passages, against the emulator."""

from __future__ import annotations

import pytest

from opkalla_portal.microsoft import AuthError, NotFoundError
from opkalla_portal.microsoft.support_ai import Passage, SupportAIClient

PASSAGES = [
    Passage(
        "Inviting users",
        "Open Users and click Invite User. Enter the email address and pick a role. "
        "The invitation expires after 7 days.",
    ),
    Passage(
        "Reducing licenses",
        "Seat decreases are allowed within 7 days of purchase. After that, schedule the "
        "reduction for renewal under Future Changes. The change takes effect on the renewal date.",
    ),
    Passage("Invoices", "Invoices are issued monthly. Finance Managers can download each invoice as PDF."),
]


async def test_streams_an_answer_citing_the_passages(emulator_url, clients):
    stream = clients.support_ai.answer("How do I reduce licenses after the 7 days?", PASSAGES)
    deltas = [d async for d in stream]
    assert len(deltas) > 3
    text = "".join(deltas)
    assert "[doc2]" in text and "renewal" in text
    assert "[doc3]" not in text
    assert [c["title"] for c in stream.citations] == ["Inviting users", "Reducing licenses", "Invoices"]


async def test_says_it_does_not_know_without_relevant_passages(emulator_url, clients):
    stream = clients.support_ai.answer("What is the capital of Peru?", PASSAGES)
    text = "".join([d async for d in stream])
    assert "don't know" in text and "[doc" not in text


async def test_bad_key_and_unknown_deployment(emulator_url, clients):
    s = clients.settings
    bad = SupportAIClient(clients.http, s.openai_url, api_key="wrong", deployment=s.openai_deployment)
    with pytest.raises(AuthError):
        [d async for d in bad.answer("invoice", PASSAGES)]
    missing = SupportAIClient(clients.http, s.openai_url, api_key=s.openai_key, deployment="nope")
    with pytest.raises(NotFoundError):
        [d async for d in missing.answer("invoice", PASSAGES)]
