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
