"""A fake embedder for fast unit tests only: hashed bag of words. Tests that
prove retrieval, citations or the API use the real model."""

from __future__ import annotations

import hashlib
import re

import numpy as np


class FakeEmbedder:
    name = "fake-bow"
    dimension = 64
    max_tokens = 256

    def __init__(self, salt: str = "") -> None:
        # Another salt: another fake model of the same dimension (other vectors).
        self.salt = salt
        self.calls = 0
        self.texts = 0

    def embed(self, texts, progress=False):
        self.calls += 1
        self.texts += len(texts)
        return self._vectors(texts)

    def _vectors(self, texts):
        out = np.zeros((len(texts), self.dimension), dtype="float32")
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z]+", t.lower()):
                out[i, int(hashlib.md5((self.salt + w).encode()).hexdigest(), 16) % self.dimension] += 1.0
            n = np.linalg.norm(out[i])
            if n:
                out[i] /= n
        return out

    def embed_tokens(self, texts, progress=False):
        """Each word that is not a stop word as a "piece": a hashed id and the
        word's own bag-of-words vector."""
        from briefing_qa.analysis import STOP
        from briefing_qa.tokens import TokenVectors

        toks = []
        for t in texts:
            found = [(m.group(), m.start()) for m in re.finditer(r"[a-z]+", t.lower()) if m.group() not in STOP]
            ws = [w for w, _ in found]
            ids = np.array([int(hashlib.md5(w.encode()).hexdigest(), 16) % 30000 for w in ws], dtype=np.int32)
            toks.append(TokenVectors(ids, self._vectors(ws), np.array([s for _, s in found], dtype=np.int32)))
        return self.embed(texts, progress), toks

    def fits(self, text: str) -> bool:
        return len(text.split()) * 1.4 < self.max_tokens
