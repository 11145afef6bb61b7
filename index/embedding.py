"""Embedders: the ``Embedder`` protocol and the sentence-transformers implementation.

Model prompts ("query: " / "passage: ") and L2 normalisation live only here: callers pass
plain text and get unit vectors, so inner product equals cosine.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.bundled import BUNDLED_MODEL, bundled_fingerprint, bundled_model_dir
from index.errors import ModelUnavailableError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = BUNDLED_MODEL
DEFAULT_CACHE_DIR = Path("var/models")
# Padded tokens per forward pass; batches of similar length share it (measured in bench).
DEFAULT_BATCH_TOKENS = 4096
MAX_SEQ_TOKENS = 512
E5_PROMPTS = ("query: ", "passage: ")

ProgressFn = Callable[[int], None]


class Embedder(Protocol):
    """Turns queries and chunk texts into unit vectors of one model."""

    name: str
    fingerprint: str
    dim: int

    def embed_query(self, text: str) -> np.ndarray:
        """Return the unit vector of one query, shape ``(dim,)``."""
        ...

    def embed_chunks(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Return unit vectors of chunk texts, shape ``(len(texts), dim)``, float32."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model: the bundled e5, a local directory or a hub name."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        cache_dir: Path = DEFAULT_CACHE_DIR,
        prompts: tuple[str, str] | None = None,
        quantize: bool = False,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
    ) -> None:
        """Load ``model``; ``prompts`` are (query, passage) prefixes, guessed when ``None``."""
        path, fingerprint = _resolve(model, cache_dir)
        self.model = _load(path, model)
        self.model.max_seq_length = min(
            self.model.max_seq_length or MAX_SEQ_TOKENS, MAX_SEQ_TOKENS
        )
        if quantize:
            self.model = _quantize(self.model)
            fingerprint += "+int8"
        self.name = model
        self.fingerprint = fingerprint
        dim = self.model.get_embedding_dimension()
        self.dim = int(dim) if dim else 0
        self.query_prompt, self.passage_prompt = prompts or _guess_prompts(model, self.model)
        self.batch_tokens = batch_tokens

    def embed_query(self, text: str) -> np.ndarray:
        """Return the unit vector of one query."""
        return self._encode([self.query_prompt + text])[0]

    def embed_chunks(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Embed chunk texts in length-sorted batches of about ``batch_tokens`` padded tokens."""
        inputs = [self.passage_prompt + text for text in texts]
        out = np.zeros((len(inputs), self.dim), dtype=np.float32)
        for batch in _token_batches(self.token_counts(inputs), self.batch_tokens):
            out[batch] = self._encode([inputs[i] for i in batch])
            if progress:
                progress(len(batch))
        return out

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Return the number of model tokens of each text (special tokens included)."""
        if not texts:
            return []
        encoded = self.model.tokenizer(
            list(texts),
            add_special_tokens=True,
            truncation=True,
            max_length=self.model.max_seq_length,
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=max(len(texts), 1),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def _token_batches(counts: list[int], batch_tokens: int) -> list[list[int]]:
    """Group indices, longest first, so each batch pads to at most ``batch_tokens`` tokens."""
    order = sorted(range(len(counts)), key=lambda i: -counts[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = counts[current[0]] if current else counts[i]
        if current and longest * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _resolve(model: str, cache_dir: Path) -> tuple[str, str]:
    """Return (path or hub name, fingerprint) of a model setting."""
    if model == BUNDLED_MODEL:
        return str(bundled_model_dir(cache_dir)), bundled_fingerprint()
    local = Path(model).expanduser()
    if local.is_dir():
        sizes = sorted((p.name, p.stat().st_size) for p in local.rglob("*") if p.is_file())
        return str(local), hashlib.sha256(repr(sizes).encode()).hexdigest()
    return model, hashlib.sha256(model.encode()).hexdigest()


def _load(path: str, model: str) -> Any:
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(path, device="cpu")
    except Exception as exc:
        raise ModelUnavailableError(
            f"Cannot load embedding model {model!r} ({type(exc).__name__}: {exc}). Use the "
            f"offline default EMBEDDING_MODEL={BUNDLED_MODEL}, a local sentence-transformers "
            "directory, or "
            "a hub name already in the Hugging Face cache."
        ) from None


def _quantize(model: Any) -> Any:
    import torch

    return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def _guess_prompts(name: str, model: Any) -> tuple[str, str]:
    prompts = getattr(model, "prompts", None) or {}
    if "query" in prompts or "passage" in prompts:
        return prompts.get("query", ""), prompts.get("passage", prompts.get("document", ""))
    if "e5" in name.lower() or name == BUNDLED_MODEL:
        return E5_PROMPTS
    return "", ""
