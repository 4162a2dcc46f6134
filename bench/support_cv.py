"""Cross-validation of the answerability threshold on the tuning half (issue 20, round 3).

Run: .venv/bin/python bench/support_cv.py [--set tuning|all] [--grid 0.3,0.35,...] [--shares 0.25,0.5,...] [--folds 5]

Runs every question of bench/support_questions/tuning.json (and the near-domain off-topic probes
below) through the whole answer path (as bench/support_eval.py does) once per pair of
`MIN_COVERAGE_IN_DOMAIN` and `UNKNOWN_SHARE_IN_DOMAIN`, then splits the tuning half into stratified
folds: on each, the value is chosen on the other folds (most questions answered correctly with
citations, an off-topic question answered costing 5; ties go to the stricter) and scored on the
left-out fold.
The gap between the mean held-in and held-out-fold accuracy shows how much choosing the threshold
overfits. `--set all` (round 5) cross-validates over both halves, which are both tuning data since round 5.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from support_eval import _answer, _load_set, fold_of  # noqa: E402

OFF_TOPIC_COST = 5

# Off-topic questions that sound like the domain, written for round 3 by the developer (not taken from
# either evaluation file): the tuning half's 15 off-topic questions alone cannot show what a lower
# threshold lets in. Several were written while the scope lexicon was being built, so they are not
# independent of it; they are a floor, not a measure.
NEAR_DOMAIN_OFF_TOPIC = [
    "What's the best CRM for a small company that already uses Outlook?",
    "Can you write a birthday message for my colleague in Teams?",
    "How do I connect my Outlook to my Gmail account?",
    "Which printer should I buy for the office?",
    "What time does the Microsoft store in the mall open?",
    "how do I make a pivot table in excel",
    "how do I reduce my electricity bill at the office",
    "how do I book a meeting room for the team",
    "how much does a Microsoft certification exam cost",
    "can you recommend a good accountant near me",
    "how do I cancel my Netflix subscription",
    "our Zoom licenses renew next month, can we reduce them",
    "how do I reset my Google Workspace admin password",
    "what's the weather going to be like for our team offsite",
    "write a job advert for a receptionist",
    "how do I file our company taxes online",
    "can Azure host my Minecraft server",
    "my home wifi keeps dropping when I'm on Teams calls",
    "how do we set up a Shopify store for our business",
    "which laptop is best for a new employee",
]


async def _outcomes(
    grid: list[tuple[float, float]], set_name: str = "tuning"
) -> tuple[list[tuple[str, list[str]]], dict]:
    """Per threshold: each tuning question's outcome (correct / wrong / dontknow / refused / answered)."""
    import httpx

    from opkalla_portal.microsoft import MicrosoftClients
    from opkalla_portal.microsoft.emulator.app import build_emulator_app
    from opkalla_portal.microsoft.emulator.settings import emulator_settings
    from opkalla_portal.microsoft.emulator.store import EmulatorStore
    from opkalla_portal.services import knowledge
    from opkalla_portal.services.microsoft_clients import use_clients
    from opkalla_portal.services.support import NO_ANSWER

    on_topic, off_topic = _load_set(set_name)
    questions = on_topic + [(q, []) for q in off_topic + NEAR_DOMAIN_OFF_TOPIC]
    app = build_emulator_app(EmulatorStore(":memory:"))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator")
    results: dict[float, list[str]] = {}
    async with MicrosoftClients(emulator_settings("http://emulator").without_embeddings(), http=http) as clients:
        use_clients(clients)
        for threshold, share in grid:
            knowledge.MIN_COVERAGE_IN_DOMAIN, knowledge.UNKNOWN_SHARE_IN_DOMAIN = threshold, share
            row = []
            for question, expected in questions:
                _, answer = await _answer(question, None)
                text, references = answer.display()
                cited = [r.url.split("slug=")[-1] for r in references]
                refused = text == NO_ANSWER or not cited
                if not expected:
                    row.append("refused" if refused else "answered")
                else:
                    row.append("dontknow" if refused else "correct" if set(cited) & set(expected) else "wrong")
            results[(threshold, share)] = row
    await http.aclose()
    return questions, results


def _score(row: list[str], members: list[int]) -> tuple[int, int, int]:
    correct = sum(row[i] == "correct" for i in members)
    leaked = sum(row[i] == "answered" for i in members)
    return correct - OFF_TOPIC_COST * leaked, correct, leaked


def main() -> int:
    thresholds = [
        float(x)
        for x in (
            sys.argv[sys.argv.index("--grid") + 1].split(",")
            if "--grid" in sys.argv
            else "0.3,0.35,0.4,0.45,0.5".split(",")
        )
    ]
    shares = [
        float(x)
        for x in (
            sys.argv[sys.argv.index("--shares") + 1].split(",")
            if "--shares" in sys.argv
            else "0.25,0.5,0.75,1.0".split(",")
        )
    ]
    grid = [(t, s) for t in thresholds for s in shares]
    folds = int(sys.argv[sys.argv.index("--folds") + 1]) if "--folds" in sys.argv else 5
    set_name = sys.argv[sys.argv.index("--set") + 1] if "--set" in sys.argv else "tuning"
    questions, results = asyncio.run(_outcomes(grid, set_name))
    on = [i for i, (_, e) in enumerate(questions) if e]
    off = [i for i, (_, e) in enumerate(questions) if not e]
    print(
        f"set {set_name}: {len(on)} on-topic, {len(off) - len(NEAR_DOMAIN_OFF_TOPIC)} off-topic, "
        f"+ {len(NEAR_DOMAIN_OFF_TOPIC)} near-domain off-topic probes; whole half per threshold:"
    )
    for t in grid:
        row = results[t]
        print(
            f"  MIN_COVERAGE_IN_DOMAIN={t[0]:.2f} UNKNOWN_SHARE_IN_DOMAIN={t[1]:.2f}: "
            f"correct {sum(row[i] == 'correct' for i in on)}/{len(on)}, "
            f"wrong {sum(row[i] == 'wrong' for i in on)}, don't know {sum(row[i] == 'dontknow' for i in on)}, "
            f"off-topic refused {sum(row[i] == 'refused' for i in off)}/{len(off)}"
        )
        leaked = [questions[i][0] for i in off if row[i] == "answered"]
        if leaked:
            print(f"    answered off-topic: {leaked}")
    fold_of_question = fold_of([on, off], folds)  # stratified: on-topic and off-topic dealt out separately
    inside, outside, leaks = [], [], 0
    for f in range(folds):
        train = [i for i in fold_of_question if fold_of_question[i] != f]
        test = [i for i in fold_of_question if fold_of_question[i] == f]
        chosen = max(grid, key=lambda t: (_score(results[t], train)[0], t))  # ties: the stricter setting
        _, c_in, _ = _score(results[chosen], train)
        _, c_out, leaked = _score(results[chosen], test)
        n_in, n_out = sum(i in on for i in train), sum(i in on for i in test)
        inside.append(c_in / n_in)
        outside.append(c_out / n_out)
        leaks += leaked
        print(
            f"  fold {f + 1}: chosen {chosen[0]:.2f}/{chosen[1]:.2f}; held-in {c_in}/{n_in} = {c_in / n_in:.1%}; "
            f"held-out fold {c_out}/{n_out} = {c_out / n_out:.1%}, off-topic answered {leaked}"
        )
    print(
        f"{folds}-fold CV: mean held-in {sum(inside) / folds:.1%}, mean held-out fold {sum(outside) / folds:.1%}, "
        f"off-topic answered in held-out folds {leaks}/{len(off)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
