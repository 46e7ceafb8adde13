from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...context import LintContext
from ...dashview import panel_label
from ...findings import Finding, Severity
from ...inputs import DashboardDoc
from ...registry import Check, register

UNIT_PANELS = frozenset({"timeseries", "graph", "stat", "singlestat", "gauge", "bargauge"})


@register
class PanelUnit(Check):
    """Numeric panels say what their numbers are: a unit (house rule, opt-in).

    ## What it does
    Reports time series, graph, stat, gauge and bar gauge panels with no unit anywhere: not in
    `fieldConfig.defaults.unit`, nor in an override, nor (legacy panels) in `format` or the first y axis. Panels
    that show text instead of numbers (value mappings, in the defaults or an override; a chosen
    `reduceOptions.fields`) are exempt. Any unit id is accepted: Grafana shows an id it does not know as a
    custom suffix (`connections`, `req/s`).

    ## Why is this bad?
    A bare `0.25` may be a ratio, seconds or requests per second; readers guess, and guess differently. Off by
    default: a count without a unit is often fine.

    ## Example
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "timeseries", "title": "Latency", "targets": [{"refId": "A", "expr": "up"}]}]}
    ```
    ```text
    0: dashboard 'http', panel 'Latency': no unit
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "timeseries", "title": "Latency", "fieldConfig": {"defaults": {"unit": "s"}},
       "targets": [{"refId": "A", "expr": "up"}]}]}
    ```
    """

    id = "dashboard/panel-unit"
    severity = Severity.WARNING
    default = False

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        for panel in dash.panels:
            data = panel.data
            if data.get("type") not in UNIT_PANELS:
                continue
            config = data.get("fieldConfig")
            config = config if isinstance(config, Mapping) else {}
            defaults = config.get("defaults")
            defaults = defaults if isinstance(defaults, Mapping) else {}
            properties = [
                prop
                for override in config.get("overrides") or []
                if isinstance(override, Mapping)
                for prop in override.get("properties") or []
                if isinstance(prop, Mapping)
            ]
            if defaults.get("mappings") or any(
                p.get("id") == "mappings" and p.get("value") for p in properties
            ):
                continue  # values are shown as text
            fields = ((data.get("options") or {}).get("reduceOptions") or {}).get("fields")
            if isinstance(fields, str) and fields:
                continue  # shows a chosen (often non-numeric) field
            units = [defaults.get("unit"), data.get("format")]
            units += [
                (axis or {}).get("format")
                for axis in (data.get("yaxes") or [])[:1]
                if isinstance(axis, Mapping)
            ]
            units += [p.get("value") for p in properties if p.get("id") == "unit"]
            if not any(isinstance(u, str) and u for u in units):
                yield self.report(ctx, f"{panel_label(dash, panel)}: no unit", dashboard=dash, panel=panel)
