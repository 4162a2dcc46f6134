"""Fault injection: latency, throttling, server errors and hangs, deterministic by seed.

The configuration lives in the store (meta ``faults``) so every process serving the
emulator sees the same switches; each process draws from its own RNG seeded with
``seed`` (re-seeded whenever the configuration changes).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import asdict, dataclass, field, fields


@dataclass
class FaultConfig:
    latency_ms: float = 0.0  # added to every service request (a $batch counts once)
    throttle_probability: float = 0.0  # answer 429 with Retry-After
    retry_after_seconds: float = 1.0
    error_probability: float = 0.0  # answer a 5xx
    error_status: int = 503
    timeout_probability: float = 0.0  # hang beyond the client's timeout (the request is not carried out)
    # Carry the request out, then hang beyond the client's timeout: the caller cannot tell
    # whether it happened (as when Microsoft's answer is lost on the way back).
    lost_response_probability: float = 0.0
    hang_seconds: float = 30.0
    seed: int = 0
    # Which services the faults apply to (login is left alone so sign-in keeps working).
    services: list[str] = field(default_factory=lambda: ["graph", "partner_center", "openai"])

    @classmethod
    def from_dict(cls, data: dict | None) -> FaultConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms
            or self.throttle_probability
            or self.error_probability
            or self.timeout_probability
            or self.lost_response_probability
        )


@dataclass
class Decision:
    """What to do with one request."""

    latency: float = 0.0
    throttle: bool = False
    error_status: int | None = None
    hang: float = 0.0
    hang_after: float = 0.0  # after carrying the request out
    retry_after: float = 1.0


class FaultInjector:
    """Draws per-request decisions from the stored configuration."""

    def __init__(self) -> None:
        self._version = None
        self._rng = random.Random(0)

    def config(self, tx) -> FaultConfig:
        raw = tx.meta("faults") or {}
        if raw.get("version") != self._version:
            self._version = raw.get("version")
            self._rng = random.Random(raw.get("seed", 0))
        return FaultConfig.from_dict(raw)

    def decide(
        self, config: FaultConfig, service: str, *, throttle_only: bool = False, include_latency: bool = True
    ) -> Decision:
        if service not in config.services or not config.active:
            return Decision()
        d = Decision(
            latency=config.latency_ms / 1000 if include_latency else 0.0, retry_after=config.retry_after_seconds
        )
        if not throttle_only and config.timeout_probability and self._rng.random() < config.timeout_probability:
            d.hang = config.hang_seconds
        elif (
            not throttle_only
            and config.lost_response_probability
            and self._rng.random() < config.lost_response_probability
        ):
            d.hang_after = config.hang_seconds
        elif not throttle_only and config.error_probability and self._rng.random() < config.error_probability:
            d.error_status = config.error_status
        elif config.throttle_probability and self._rng.random() < config.throttle_probability:
            d.throttle = True
        return d

    @staticmethod
    async def delay(decision: Decision) -> None:
        if decision.latency:
            await asyncio.sleep(decision.latency)
        if decision.hang:
            await asyncio.sleep(decision.hang)
