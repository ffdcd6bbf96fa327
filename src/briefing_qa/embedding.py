"""Embedding: the sentence-transformers model, loaded from a local path
(the bundled all-MiniLM-L6-v2 by default) so nothing downloads."""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ConfigError
from .tokens import TokenVectors, content_mask, content_tokens

# Never reach for a model hub: the service must work with no network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def fits(self, text: str) -> bool: ...

    # Optional, for late interaction (tokens.py): the vectors `embed` gives
    # and each text's content word pieces, from the same run of the model.
    # def embed_tokens(self, texts, progress=False) -> tuple[np.ndarray, list[TokenVectors]]: ...


def content_hash(text: str, model_id: str) -> str:
    """Key of a vector: the same text embedded by the same model (see
    `model_identity`) never needs embedding twice, and a vector made by
    another model, even one of the same dimension, is never taken for it."""
    return hashlib.sha256(f"{model_id}\n{text}".encode()).hexdigest()


def model_identity(path_or_name: str) -> str:
    """What the vectors depend on: the model's name and, for a local folder,
    a hash of every file in it (weights, configuration, tokenizer; not its
    README). `model_name` alone is not enough: it calls every MiniLM folder
    "all-MiniLM-L6-v2", and two folders may share a name. ~0.1 s for MiniLM."""
    p = Path(path_or_name)
    if not p.exists():
        return path_or_name
    h = hashlib.sha256()
    files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
    for f in files:
        rel = f.relative_to(p) if f != p else Path(f.name)
        if any(part.startswith(".") for part in rel.parts) or f.suffix.lower() == ".md":
            continue
        h.update(f"{rel.as_posix()}\n".encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return f"{model_name(path_or_name)}@sha256:{h.hexdigest()[:32]}"


def model_name(path_or_name: str) -> str:
    """A stable, human-readable name for the manifest."""
    p = Path(path_or_name)
    if p.exists():
        from .adaptation import Adaptation

        adapted = Adaptation.read(p)
        if adapted is not None:
            return adapted.name  # "all-MiniLM-L6-v2+adapted"
        cfg = p / "config_sentence_transformers.json"
        name = p.name if p.name != "model" else p.parent.name
        if "minilm" in str(p).lower():
            return "all-MiniLM-L6-v2"
        return name if cfg.exists() else str(p)
    return path_or_name


class SentenceTransformerEmbedder:
    def __init__(self, path: str, query_batch_wait: float = 0.0) -> None:
        if not Path(path).exists():
            raise ConfigError(
                f"embedding model not found at {path!r}: set BRIEFING_QA_MODEL to a local sentence-transformers folder",
                key="BRIEFING_QA_MODEL",
            )
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        # No "Loading weights" bars or long-sequence warnings in logs: token
        # counting deliberately measures texts longer than the model takes.
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
        self.model = SentenceTransformer(path, device="cpu")
        self.name = model_name(path)
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)
        self.token_mask = content_mask(self.model.tokenizer.get_vocab())
        self._lock = threading.Lock()

    def embed(self, texts: list[str], progress: bool = False, batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        with self._lock:  # torch on 2 cores: one batch at a time is fastest
            vecs = self.model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vecs, dtype="float32")

    def embed_tokens(self, texts: list[str], progress: bool = False,
                     batch_size: int = 32) -> tuple[np.ndarray, list[TokenVectors]]:
        """The vectors `embed` gives and each text's content word pieces, from
        one forward pass a batch (texts of like length batched together, as
        `encode` does). Only the kept pieces are held, never every padded
        hidden state of a large corpus. The model is called directly:
        encode(output_value=None) fails on batches of more than 4 texts in
        this sentence-transformers (it indexes the string feature "modality")."""
        import torch

        vecs = np.zeros((len(texts), self.dimension), dtype="float32")
        toks: list[TokenVectors | None] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda k: -len(texts[k]))
        prep = getattr(self.model, "preprocess", None) or self.model.tokenize
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="Embedding", unit="text")
        for i in range(0, len(order), batch_size):
            batch = order[i : i + batch_size]
            with self._lock, torch.inference_mode():
                out = self.model(prep([texts[k] for k in batch]))
            emb = out["sentence_embedding"].float().cpu().numpy()
            hidden = out["token_embeddings"].float().cpu().numpy()
            ids, att = out["input_ids"].cpu().numpy(), out["attention_mask"].cpu().numpy()
            # Where each piece starts (the same tokenizer again, asked for offsets).
            spans = self.model.tokenizer([texts[k] for k in batch], truncation=True, max_length=self.max_tokens,
                                         return_offsets_mapping=True)
            for j, k in enumerate(batch):
                vecs[k] = emb[j]
                starts = np.asarray(spans["offset_mapping"][j], dtype=np.int64)[:, 0]
                same = list(spans["input_ids"][j]) == ids[j][: len(starts)].tolist()
                toks[k] = content_tokens(ids[j], hidden[j], att[j], self.token_mask, starts if same else None)
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return vecs, toks

    def token_count(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def fits(self, text: str) -> bool:
        return self.token_count(text) <= self.max_tokens


@lru_cache(maxsize=4)
def load_embedder(path: str) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(path)
