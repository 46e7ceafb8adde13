"""Reading raw query text (before parsing): quoted strings and `[...]` range windows as written."""

from __future__ import annotations

import re
from collections.abc import Iterator

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
    spans: list[tuple[int, int]] = []
    for match in QUOTED.finditer(text):
        start = match.start()
        if text[start] == "#":
            spans.append((start, match.end()))
        elif match.lastindex:
            spans.append((start, match.end() - 1))
        else:
            spans.append((start, len(text)))
    return spans


def range_windows(text: str) -> Iterator[tuple[int, str]]:
    """(offset, window as written) of every `[...]` outside strings and label braces; `[[var]]` is a variable."""
    strings = string_spans(text)
    braces = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char in "\"'`#":
            span = next((e for s, e in strings if s == i), i)
            i = span + 1
            continue
        if char == "{":
            braces += 1
        elif char == "}":
            braces = max(0, braces - 1)
        elif char == "[" and braces == 0:
            end = closing(text, i)
            yield i, _window(text[i + 1 : end])
            i = end
        i += 1


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
    depth = 0
    for i in range(opening, len(text)):
        if quoted is not None and quoted[i]:
            continue
        if text[i] == pair[0]:
            depth += 1
        elif text[i] == pair[1]:
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def quoted_mask(text: str) -> bytearray:
    """1 for every character inside a quoted string or a comment, 0 elsewhere."""
    quoted = bytearray(len(text))
    for start, end in string_spans(text):
        quoted[start : end + 1] = b"\x01" * (min(end, len(text) - 1) - start + 1)
    return quoted


def rate_windows(text: str) -> Iterator[tuple[str, str]]:
    """(function, window as written) of every rate/irate/increase call: the first window inside its parentheses."""
    quoted = quoted_mask(text)
    windows = list(range_windows(text))
    for match in RANGE_CALL.finditer(text):
        if quoted[match.start()]:
            continue
        close = closing(text, match.end() - 1, "()", quoted)
        window = next((w for at, w in windows if match.end() <= at < close), None)
        if window is not None:
            yield match.group(1), window


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
