"""The typed helpers, where they give back exactly the panel, query or variable being imported.

Each function proposes the helper call that would write `data`, evaluates it, and keeps it only when the
build of that call equals `data` (otherwise the importer writes the lossless `panel()`/`target()`/
`variable()` form). Dashboards built by lgtm-dash itself therefore come back as the code that made them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model.panels import loki_target, prom_target, sql_target
from .pysource import Call, evaluate

if TYPE_CHECKING:
    from .dashboards import PanelWriter, References


def _same(call: Call, data: dict[str, Any], position: int) -> bool:
    built = evaluate(call)
    json = built.to_json_data()
    json["refId"] = json.get("refId") or chr(ord("A") + position)
    return json == data


def typed_target(data: dict[str, Any], position: int) -> Call | None:
    """`prom_target(...)`, `loki_target(...)` or `sql_target(...)` when one writes exactly `data`."""
    if data.get("refId") != chr(ord("A") + position) or position >= 26:
        return None
    candidates: list[Call] = []
    legend = data.get("legendFormat", "")
    if isinstance(data.get("expr"), str) and "queryType" in data:
        candidates.append(
            Call(
                loki_target,
                (data["expr"], legend) if legend else (data["expr"],),
                _flag("instant", data.get("queryType") == "instant"),
            )
        )
    elif isinstance(data.get("expr"), str):
        kwargs = _flag("table", data.get("format") == "table") or _flag(
            "instant", data.get("instant") is True
        )
        candidates.append(Call(prom_target, (data["expr"], legend) if legend else (data["expr"],), kwargs))
    elif isinstance(data.get("rawSql"), str):
        candidates.append(
            Call(
                sql_target,
                (data["rawSql"],),
                {"format": data["format"]} if data.get("format") == "table" else {},
            )
        )
    for call in candidates:
        if (
            isinstance(call.args[0], str)
            and call.args[0] == call.args[0].strip()
            and _same(call, data, position)
        ):
            return call
    return None


def _flag(name: str, on: bool) -> dict[str, Any]:
    return {name: True} if on else {}


def typed_panel(data: dict[str, Any], writer: PanelWriter) -> Call | None:
    """A typed panel helper (`timeseries`, `stat`...) that writes `data` (but its id and position)."""
    return None


def typed_variable(data: dict[str, Any], refs: References) -> Call | None:
    """A variable helper (`query_variable`, `custom_variable`, `textbox`...) that writes `data`."""
    return None
