"""Project settings: the `[tool.lgtm-dash.<section>]` tables of the project's pyproject.toml (like ruff's).

A project without pyproject.toml, or without the table, gets the defaults. Unknown keys are errors naming
the key, so a misspelt setting is never silently ignored.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import DefinitionError
from .source import display_path

PYPROJECT = "pyproject.toml"


def tool_section(project: Path, section: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """`[tool.lgtm-dash.<section>]` merged over `defaults`; a key absent from `defaults` is an error."""
    path = project / PYPROJECT
    if not path.is_file():
        return dict(defaults)
    shown = display_path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        line = re.search(r"at line (\d+)", str(err))
        raise DefinitionError(f"invalid TOML: {err}", f"{shown}:{line.group(1) if line else 1}") from None
    table = data.get("tool", {}).get("lgtm-dash", {}).get(section, {})
    where = f"{shown}: [tool.lgtm-dash.{section}]"
    if not isinstance(table, dict):
        raise DefinitionError("must be a table", where)
    unknown = sorted(set(table) - set(defaults))
    if unknown:
        raise DefinitionError(
            f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(defaults))})", where
        )
    return {**defaults, **table}
