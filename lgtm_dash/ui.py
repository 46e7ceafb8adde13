"""Terminal output (rich). Progress and colour only on a terminal; plain text in CI and pipes."""

from __future__ import annotations

import os
import sys

from rich.console import Console


def is_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def interactive() -> bool:
    """Whether progress displays should be shown (a terminal, and not CI)."""
    return sys.stderr.isatty() and not is_ci()


console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


# Values longer than this are cut in terminal output (plans, diffs, reports): a 5 MB description must not
# flood a terminal or a CI log. Markdown and JSON outputs have their own limits.
SHORTEN_LIMIT = 300


def shorten(text: str, limit: int = SHORTEN_LIMIT) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"
