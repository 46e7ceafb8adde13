"""The Alertmanager config under the real tools: `amtool check-config` and `amtool config routes test`.

Works on the compiled body of Mimir's `POST /api/v1/alerts` (as in out/mimir/alertmanager.yaml): the config
and its template files are written side by side, with the `${VAR}` placeholders filled from `environ`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .promtool import ToolResult, run_tool
from .secrets import expand

CONFIG_FILE = "alertmanager.yml"


def write_config(body: Mapping[str, Any], directory: Path, environ: Mapping[str, str]) -> Path:
    """Write the config (placeholders filled) and its templates into `directory`; return the config path.

    Alertmanager resolves the relative template names against the config file's directory.
    """
    directory.mkdir(parents=True, exist_ok=True)
    filled = expand(dict(body), environ, context="the Alertmanager config", grafana_escapes=False)
    assert isinstance(filled, dict)
    for name, text in (filled.get("template_files") or {}).items():
        (directory / name).write_text(text, encoding="utf-8")
    config = filled["alertmanager_config"]
    config_path = directory / CONFIG_FILE
    config_path.write_text(config if isinstance(config, str) else yaml.safe_dump(config), encoding="utf-8")
    return config_path


def check_config(amtool: str, config_path: Path) -> ToolResult:
    return run_tool([amtool, "check-config", str(config_path)])


def routes_test(
    amtool: str, config_path: Path, labels: Mapping[str, str], expected_receivers: list[str]
) -> ToolResult:
    """`amtool config routes test`: fails (exit 1) when `labels` do not reach exactly `expected_receivers`."""
    return run_tool(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={config_path}",
            f"--verify.receivers={','.join(expected_receivers)}",
            *(f"{name}={value}" for name, value in labels.items()),
        ]
    )
