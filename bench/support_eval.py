"""Support assistant quality: retrieval hit rate, cited answers and time to first token, in demo mode.

Run: .venv/bin/python bench/support_eval.py [--set dev|tuning|heldout] [--hybrid] [--http] [--show]
  --set dev      the developers' own 42 questions below (the default; worded like the articles)
  --set tuning   bench/support_questions/tuning.json: customers' wording, the half we tune on
  --set heldout  bench/support_questions/heldout.json: the old held-out half (tuning data since round 5)
  --set tuning-r7  round 7's tuning set (200 questions by a writer who saw only the guide and the topics)
  --set heldout-r19  the blind set (score only: never read its misses)
  --set heldout-r5|…|heldout-r18  earlier blind sets: tuning data since rounds 8–19
  --set all      every tuning set (TUNING_SETS: 2,574 on-topic, 419 off-topic): what is tuned on
  --hybrid       BM25 + vector similarity (the emulator runs all-MiniLM-L6-v2), as production
                 ranks when an embeddings deployment is configured
  --show         print every question's outcome (misses and wrong answers are always printed)
  --blind-fold N keep fold N of the set's 5 stratified on-topic folds (the folds of
                 bench/support_cv.py) blind: its questions' outcomes are not printed, only its score, so a
                 fix made from the other folds' misses can be checked on questions it was not made from
Each question names the article(s) its answer should cite. Prints hit rate at 1 and at 3 (the
expected article among the first 1 or 3 articles retrieved) and the median time from
question to the first streamed token, with the emulator's chat endpoint served in-process
(or, with --http, by uvicorn on a localhost port, as the demo serves it).
Also checks that off-topic questions get the honest "I don't know" (no passages).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUESTIONS: list[tuple[str, str]] = [
    ("How do I set up two-step verification with the Authenticator app on my new phone?", "mfa-setup-authenticator"),
    ("Can I cancel a subscription I bought last week and get a refund?", "nce-cancellation-window"),
    ("Why can't I lower the number of seats on my subscription?", "nce-cancellation-window"),
    ("What is the difference between Business Standard and Business Premium?", "m365-business-plans-compared"),
    ("How many computers can I install Office on?", "m365-apps-install-limits"),
    ("License assignment failed because of invalid usage location", "usage-location-required"),
    ("Does a shared mailbox need a license?", "shared-mailbox-licensing"),
    ("How do I buy Copilot for a few people?", "copilot-licensing"),
    ("What do we need to make phone calls from Teams?", "teams-phone-licensing"),
    ("What are security defaults?", "security-defaults"),
    ("How do I block legacy authentication like IMAP and POP?", "block-legacy-authentication"),
    ("A user forgot their password, how can they reset it themselves?", "self-service-password-reset"),
    ("My mailbox is full, how do I get more space?", "mailbox-size-and-archive"),
    ("How do I forward email to an external address?", "email-forwarding"),
    ("How do I recover an email I deleted by mistake?", "recover-deleted-email"),
    ("An employee is leaving, what should we do with their mailbox?", "convert-mailbox-to-shared"),
    ("Which DNS records do I need for email: MX, SPF, DKIM, DMARC?", "custom-domain-dns"),
    ("How do I add a guest from another company to a team?", "teams-guest-external-access"),
    ("Where are Teams meeting recordings saved and when do they expire?", "teams-meeting-recordings"),
    ("How much OneDrive storage does each user get?", "onedrive-storage-sync"),
    ("Ransomware encrypted my OneDrive files, can I restore them?", "onedrive-restore-files"),
    ("How do I enroll a Windows laptop in Intune?", "intune-device-enrollment"),
    ("How do I protect company data on employees' personal phones?", "intune-app-protection-byod"),
    ("How do I report a phishing email, and where is quarantine?", "defender-office-phishing"),
    ("Is a monthly term more expensive than an annual term?", "nce-terms-and-billing"),
    ("What happens when my subscription renews automatically?", "nce-renewal-auto-renew"),
    ("If I add seats in the middle of the term, how am I charged?", "nce-adding-seats-proration"),
    ("How do I set a budget alert for Azure spending?", "azure-cost-management-budgets"),
    ("How is Azure billed through a CSP partner?", "azure-plan-csp"),
    ("Can I save money with Azure reservations?", "azure-reservations-savings-plans"),
    ("How do I give someone read-only access to an Azure subscription?", "azure-rbac-access"),
    ("How can I see what admin access Opkalla has to our tenant?", "gdap-partner-access"),
    ("How do I invite a new user to the portal?", "portal-manage-users"),
    ("How do I change the quantity of my subscription in the portal?", "portal-my-services"),
    ("Where can I find my paid invoices?", "portal-my-invoices"),
    ("How do I view Azure usage for the last 6 months?", "portal-usage-data"),
    ("How do I update our company phone number and address?", "portal-my-company"),
    ("Where do I find the Microsoft Customer Agreement?", "portal-my-agreements"),
    ("I am not a Global Admin, how do I get consent for Manage Licenses?", "portal-manage-licenses"),
    ("How do I purchase a new product from the Product Catalog?", "portal-product-catalog"),
    ("What should I do when a new employee starts?", "onboarding-new-employee"),
    ("Is Microsoft 365 down? How do I check service health?", "service-health-outages"),
]

UNANSWERABLE = [
    "What is the capital of Peru?",
    "Can you recommend a good pizza place downtown?",
    "How do I bake sourdough bread?",
]


# What is tuned on. Rounds 5–7's blind sets joined it in round 8, r8 in round 9, r9 in round 10, r10 in
# round 11, r11 in round 12, r12 in round 13, r13 in round 14, r14 in round 15,
# r15 in round 16, r16 in round 17, r17 in round 18, r18 in round 19 (heldout-r19 is the blind set).
TUNING_SETS = (
    "tuning",
    "heldout",
    "tuning-r7",
    "heldout-r5",
    "heldout-r6",
    "heldout-r7",
    "heldout-r8",
    "heldout-r9",
    "heldout-r10",
    "heldout-r11",
    "heldout-r12",
    "heldout-r13",
    "heldout-r14",
    "heldout-r15",
    "heldout-r16",
    "heldout-r17",
    "heldout-r18",
)


def _load_set(name: str) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """(on-topic [(question, expected slugs)], off-topic questions) of a question set."""
    if name == "dev":
        return [(q, [slug]) for q, slug in QUESTIONS], list(UNANSWERABLE)
    if name == "all":  # every tuning set (TUNING_SETS)
        parts = [_load_set(part) for part in TUNING_SETS]
        return [q for on, _ in parts for q in on], [q for _, off in parts for q in off]
    rows = json.loads((Path(__file__).resolve().parent / "support_questions" / f"{name}.json").read_text())
    return (
        [(r["question"], list(r["articles"])) for r in rows if r["articles"]],
        [r["question"] for r in rows if not r["articles"]],
    )


def fold_of(groups: list[list[int]], folds: int = 5, seed: int = 20) -> dict[int, int]:
    """Stratified folds: each group of question indices (on-topic, off-topic) dealt out separately,
    in a fixed shuffle (the on-topic group first, so its folds do not depend on the others)."""
    rng = random.Random(seed)
    result: dict[int, int] = {}
    for group in groups:
        shuffled = group[:]
        rng.shuffle(shuffled)
        for k, i in enumerate(shuffled):
            result[i] = k % folds
    return result


async def _answer(question: str, vectors) -> tuple[float, object]:
    """(seconds to the first streamed delta, the finished Answer)."""
    from opkalla_portal.services.support import Answer

    started = time.perf_counter()
    answer = await Answer.prepare(question, vectors=vectors)
    first = None
    async for _ in answer.deltas():
        if first is None:
            first = time.perf_counter() - started
    return (first if first is not None else time.perf_counter() - started), answer


def _serve(app):
    """The emulator on a free localhost port in a background thread: (server, base URL)."""
    import socket
    import threading

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


async def _main() -> int:
    import httpx

    from opkalla_portal.microsoft import MicrosoftClients
    from opkalla_portal.microsoft.emulator.app import build_emulator_app
    from opkalla_portal.microsoft.emulator.settings import emulator_settings
    from opkalla_portal.microsoft.emulator.store import EmulatorStore
    from opkalla_portal.services.knowledge import knowledge_index
    from opkalla_portal.services.microsoft_clients import use_clients
    from opkalla_portal.services.support import NO_ANSWER

    set_name = sys.argv[sys.argv.index("--set") + 1] if "--set" in sys.argv else "dev"
    hybrid, show = "--hybrid" in sys.argv, "--show" in sys.argv
    on_topic, off_topic = _load_set(set_name)
    blind = int(sys.argv[sys.argv.index("--blind-fold") + 1]) - 1 if "--blind-fold" in sys.argv else None
    folds = fold_of([list(range(len(on_topic)))])
    blind_correct = blind_n = 0
    index = knowledge_index()

    app = build_emulator_app(EmulatorStore(":memory:"))
    server = None
    if "--http" in sys.argv:
        server, base = _serve(app)
        http = httpx.AsyncClient()
    else:
        base = "http://emulator"
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)
    settings = emulator_settings(base)
    if not hybrid:
        settings = settings.without_embeddings()
    hit1 = hit3 = correct = wrong = dont_know = refused = 0
    timings, report = [], []
    async with MicrosoftClients(settings, http=http) as clients:
        use_clients(clients)
        vectors = None
        if hybrid:
            from opkalla_portal.services.knowledge_vectors import VectorRanker

            vectors = VectorRanker.in_memory(clients.embeddings)
            await vectors.ensure_indexed()
        await _answer("warm up: how do I reset a password?", vectors)
        for number, (question, expected) in enumerate(on_topic):
            first, answer = await _answer(question, vectors)
            timings.append(first * 1000)
            ranked = list(dict.fromkeys(h.slug for h in answer.hits))
            hit1 += bool(ranked[:1]) and ranked[0] in expected
            hit3 += any(slug in expected for slug in ranked[:3])
            text, references = answer.display()
            cited = [r.url.split("slug=")[-1] for r in references]
            if text == NO_ANSWER or not cited:
                dont_know += 1
                outcome = "DON'T KNOW"
            elif any(slug in expected for slug in cited):
                correct += 1
                outcome = "correct"
            else:
                wrong += 1
                outcome = "WRONG"
            if blind is not None and folds[number] == blind:
                blind_n += 1
                blind_correct += outcome == "correct"
                continue
            if show or outcome != "correct":
                report.append(f"  {outcome}: {question!r} expected {expected}, ranked {ranked[:3]}, cited {cited}")
        for question in off_topic:
            _, answer = await _answer(question, vectors)
            text, references = answer.display()
            if text == NO_ANSWER:
                refused += 1
            else:
                cited = [r.url.split("slug=")[-1] for r in references]
                report.append(f"  ANSWERED OFF-TOPIC: {question!r} cited {cited}")
    await http.aclose()
    if server is not None:
        server.should_exit = True

    n = len(on_topic)
    print(
        f"set: {set_name}  retrieval: {'hybrid BM25 + vectors' if hybrid else 'BM25 + vocabulary'}  "
        f"questions: {n} on-topic, {len(off_topic)} off-topic  index: {index.chunk_count} chunks"
    )
    print(f"hit rate @1: {hit1 / n:.1%} ({hit1}/{n})")
    print(f"hit rate @3: {hit3 / n:.1%} ({hit3}/{n})")
    print(f"answered correctly with citations: {correct / n:.1%} ({correct}/{n})")
    print(f"answered citing only other articles (wrong article): {wrong / n:.1%} ({wrong}/{n})")
    print(f"on-topic answered 'I don't know': {dont_know / n:.1%} ({dont_know}/{n})")
    print(f"off-topic questions answered 'I don't know': {refused}/{len(off_topic)}")
    if blind is not None:
        print(
            f"  blind fold {blind + 1} (outcomes not shown): {blind_correct}/{blind_n} = "
            f"{blind_correct / blind_n:.1%}; the other folds: {correct - blind_correct}/{n - blind_n} = "
            f"{(correct - blind_correct) / (n - blind_n):.1%}"
        )
    print(f"chat endpoint: {'HTTP on localhost' if server else 'in-process ASGI'}")
    print(
        f"median time to first token: {statistics.median(timings):.1f} ms (p95 "
        f"{sorted(timings)[int(0.95 * (n - 1))]:.1f} ms)"
    )
    print("\n".join(report))
    return 0 if correct / n >= 0.9 and statistics.median(timings) < 300 and refused == len(off_topic) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(_main()))
