"""JavaScript's value conversions, where Grafana's migrations rely on them (`Number("12px")`, `parseInt`...).

Grafana migrates dashboards in TypeScript; a faithful port needs the same answers for odd inputs: numbers
written as strings, `-Infinity` (saved as `null`), `NaN` (saved as `null`).
"""

from __future__ import annotations

import math
import re
from typing import Any

_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_LEADING_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_LEADING_INT = re.compile(r"^[+-]?\d+")


def number(value: Any) -> float | None:
    """`Number(value)`; None stands for NaN. Booleans and null count as JavaScript counts them."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return 0.0
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
        return float(int(text, 16))
    return float(text) if _DECIMAL.match(text) else None


def parse_float(value: Any) -> float | None:
    """`parseFloat(value)`: the longest numeric prefix; None for NaN."""
    text = str(value).strip() if not isinstance(value, str) else value.strip()
    if text.startswith(("Infinity", "+Infinity")):
        return math.inf
    if text.startswith("-Infinity"):
        return -math.inf
    match = _LEADING_FLOAT.match(text)
    return float(match.group(0)) if match else None


def parse_int(value: Any) -> int | None:
    """`parseInt(value, 10)`; None for NaN."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value)
    match = _LEADING_INT.match(str(value).strip())
    return int(match.group(0)) if match else None


def saved(value: float | None) -> int | float | None:
    """A number as `JSON.stringify` saves it: NaN and ±Infinity become null, whole numbers lose `.0`."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return int(value) if float(value).is_integer() else value


def truthy(value: Any) -> bool:
    """JavaScript truthiness (`0`, `""`, null, NaN are false; `{}` and `[]` are true)."""
    if isinstance(value, dict | list):
        return True
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


def is_number(value: Any) -> bool:
    """lodash `isNumber`: a number that is not a boolean."""
    return isinstance(value, int | float) and not isinstance(value, bool)
