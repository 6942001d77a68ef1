"""Trial counts and sizes: the full run (3 to 5 minutes on 2 cores) and ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Settings:
    """Everything a run's duration depends on."""

    # 1. short chat, per-call overhead
    chat_trials: int = 5
    chat_calls: int = 40
    """Calls per trial; a trial's value is the median call."""
    chat_warmup: int = 5

    # 2. streaming
    ttfc_trials: int = 15
    ttfc_tokens: int = 5
    """Short paced streams for time-to-first-chunk (many trials: a robust median)."""
    paced_trials: int = 3
    paced_tokens: int = 160
    token_delay: float = 0.005
    """Emulator pacing between events of the paced streams (seconds)."""
    burst_trials: int = 3
    burst_tokens: int = 2000
    """Unpaced stream for chunks per second through each stack."""

    # 3. embeddings
    embed_trials: int = 3
    embed_texts: int = 1000
    embed_texts_sequential: int = 60
    """Texts for the alternatives that send one request per text, one after another."""
    embed_latency: float = 0.020
    embed_concurrency: int = 25
    """Requests in flight for ours: 20 / 0.8. langchain-naver sends one request at a time, so
    it embeds at most one text per latency (50 texts/s at 20 ms; 30 to 42 measured on this
    machine). At 25 in flight the bound is 1,250 texts/s and 20x even that ceiling is 80%
    of it, so the two halves of the target ask the same at most, whatever the machine's
    speed. (At 16 the bound was 21x a langchain-naver at 38 texts/s: 95% of the bound, more
    than any client reached even without a server.)"""
    embed_qpm: int = 6000
    embed_mock_texts: int = 240
    """Texts of the server-free check (mock transport sleeping the same latency)."""

    # 4. imports
    import_trials: int = 4
    import_pair_trials: int = 20
    """Fresh interpreters timing a reference import and then ours (the import target)."""
    import_warmup: bool = True
    """One untimed interpreter imports every case first (bytecode and page caches)."""

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (``None`` values are ignored)."""
        return replace(self, **{key: value for key, value in changes.items() if value is not None})


FULL = Settings()

QUICK = Settings(
    chat_trials=3,
    chat_calls=15,
    chat_warmup=2,
    ttfc_trials=5,
    paced_trials=1,
    paced_tokens=80,
    burst_trials=1,
    burst_tokens=500,
    embed_trials=1,
    embed_texts=200,
    embed_texts_sequential=20,
    embed_mock_texts=160,
    import_trials=1,
    import_pair_trials=5,
    import_warmup=False,
)
