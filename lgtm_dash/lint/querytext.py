"""Reading raw query text (before parsing): quoted strings and `[...]` range windows as written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

RANGE_CALL = re.compile(r"\b(rate|irate|increase)\s*\(")
# A fixed window this long is a deliberate "per hour / per day" figure, not a missing $__rate_interval.
LONG_WINDOW_MS = 3_600_000
ADAPTIVE_WINDOW = re.compile(r"^\$\{?__(rate_interval|range|auto)\}?$|^\[\[__(rate_interval|range|auto)\]\]$")
GRAFANA_VARIABLE = re.compile(r"\$\{?\w+|\[\[\w+")


# A `#` comment (to the end of the line: an apostrophe in it is no quote), or a string with its closing quote
# (group 1, 2 or 3) when it has one; backslash escapes count in "..." and '...', not in `...`.
QUOTED = re.compile(r"""#[^\n]*|"(?:[^"\\]|\\.)*(")?|'(?:[^'\\]|\\.)*(')?|`[^`]*(`)?""", re.DOTALL)


def string_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every quoted string ("...", '...', `...`, honouring backslash escapes) and `#` comment;
    `end` is the closing quote, or the end of the text for a string left open."""
    return list(_string_spans(text))


@lru_cache(maxsize=4096)
def _string_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Cached: several checks read the same query's strings, and a query is read again when it repeats."""
    if not any(char in text for char in "\"'`#"):
        return ()
    spans: list[tuple[int, int]] = []
    for match in QUOTED.finditer(text):
        start = match.start()
        if text[start] == "#":
            spans.append((start, match.end()))
        elif match.lastindex:
            spans.append((start, match.end() - 1))
        else:
            spans.append((start, len(text)))
    return tuple(spans)


# What `range_windows` stops at: a quote or comment to skip, a label brace, a range bracket.
_WINDOW_SCAN = re.compile(r"[\"'`#{}\[]")
_PAIRS = {"[]": re.compile(r"[\[\]]"), "()": re.compile(r"[()]")}


def range_windows(text: str) -> Iterator[tuple[int, str]]:
    """(offset, window as written) of every `[...]` outside strings and label braces; `[[var]]` is a variable."""
    return iter(_range_windows(text))


@lru_cache(maxsize=4096)
def _range_windows(text: str) -> tuple[tuple[int, str], ...]:
    if "[" not in text:
        return ()
    span_ends = dict(_string_spans(text))
    found: list[tuple[int, str]] = []
    braces = 0
    i = 0
    while (match := _WINDOW_SCAN.search(text, i)) is not None:
        i = match.start()
        char = text[i]
        if char in "\"'`#":
            i = span_ends.get(i, i) + 1
            continue
        if char == "{":
            braces += 1
        elif char == "}":
            braces = max(0, braces - 1)
        elif braces == 0:
            end = closing(text, i)
            found.append((i, _window(text[i + 1 : end])))
            i = end
        i += 1
    return tuple(found)


def _window(content: str) -> str:
    content = content.strip()
    if content.startswith("${"):
        return content[: content.find("}") + 1] if "}" in content else content
    if content.startswith("[[") and "]]" in content:
        return content[: content.find("]]") + 2]
    return content.split(":")[0].strip()  # a subquery's [range:step]


def closing(text: str, opening: int, pair: str = "[]", quoted: bytearray | None = None) -> int:
    """Index of the bracket closing the one at `opening` (`pair` is the opening and closing character),
    skipping characters marked in `quoted`; the end of the text when it is not closed."""
    pattern = _PAIRS.get(pair) or re.compile("[" + re.escape(pair) + "]")
    depth = 0
    for match in pattern.finditer(text, opening):
        i = match.start()
        if quoted is not None and quoted[i]:
            continue
        if text[i] == pair[0]:
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def quoted_mask(text: str) -> bytearray:
    """1 for every character inside a quoted string or a comment, 0 elsewhere."""
    quoted = bytearray(len(text))
    for start, end in _string_spans(text):
        quoted[start : end + 1] = b"\x01" * (min(end, len(text) - 1) - start + 1)
    return quoted


def rate_windows(text: str) -> Iterator[tuple[str, str]]:
    """(function, window as written) of every rate/irate/increase call: the first window inside its parentheses."""
    return iter(_rate_windows(text))


@lru_cache(maxsize=4096)
def _rate_windows(text: str) -> tuple[tuple[str, str], ...]:
    if "(" not in text:
        return ()
    quoted = quoted_mask(text)
    windows = _range_windows(text)
    found = []
    for match in RANGE_CALL.finditer(text):
        if quoted[match.start()]:
            continue
        close = closing(text, match.end() - 1, "()", quoted)
        window = next((w for at, w in windows if match.end() <= at < close), None)
        if window is not None:
            found.append((match.group(1), window))
    return tuple(found)


def fixed_window_is_deliberate(function: str, window: str, *, instant: bool, title: str = "") -> bool:
    """Whether a range window that does not adapt to the panel is still what the author meant.

    Adaptive windows ($__rate_interval, $__range, $__auto) and dashboard variables the viewer picks are fine; so
    is any window of an instant query (a table or stat of "the last 5 minutes"), a long one (`[1h]`, `[1d]`: a
    count per hour or day), one the panel title names ("Rate[5m]", "errors in the last 5m"), and
    `increase(x[$__interval])`, a count per graph bucket.
    """
    from ..durations import parse_duration_ms

    if ADAPTIVE_WINDOW.match(window) or instant or (window and window.lower() in title.lower()):
        return True
    if GRAFANA_VARIABLE.search(window):
        return "__interval" not in window or function == "increase"
    ms = parse_duration_ms(window)
    return ms is not None and ms >= LONG_WINDOW_MS
