"""The questions tests are written with must not be evaluation questions (bench/support_questions)."""

import json
import re
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[2] / "bench" / "support_questions"


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def assert_none_is_an_evaluation_question(questions: list[str]) -> None:
    """Every set, the blind ones included (compared only, never printed)."""
    evaluation = {_normal(row["question"]) for path in FOLDER.glob("*.json") for row in json.loads(path.read_text())}
    assert not {_normal(q) for q in questions} & evaluation
