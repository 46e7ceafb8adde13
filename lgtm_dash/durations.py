"""Prometheus durations (`1h30m`, `90s`, `5m`, `1d`, `1w`, `1y`, `100ms`), as `model.ParseDuration` reads them
and `model.Duration.String()` writes them: units from largest to smallest, each at most once, integers only,
`0` alone allowed, at most what a Go `time.Duration` holds (about 292 years).
"""

from __future__ import annotations

import re

_DURATION = re.compile(
    r"(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?"
)
_UNITS_MS = (
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
)
_MAX_MS = (2**63 - 1) // 1_000_000  # a time.Duration counts nanoseconds in an int64


def parse_duration_ms(text: str) -> int | None:
    """`1h30m` → 5400000 milliseconds; None when Prometheus would reject the text."""
    if text == "0":
        return 0
    match = _DURATION.fullmatch(text) if text else None
    if match is None:
        return None
    ms = sum(int(n) * size for n, (_, size) in zip(match.groups(), _UNITS_MS, strict=True) if n)
    return ms if ms <= _MAX_MS else None


def format_duration(ms: int) -> str:
    """Prometheus' canonical spelling: 90000 → `1m30s`, 604800000 → `1w`, 0 → `0s`.

    Years and weeks only when exact, like `model.Duration.String()` (easier to read `10d` than `1w3d`).
    """
    if ms == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS_MS:
        if unit in ("y", "w") and ms % size:
            continue
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(parts)
