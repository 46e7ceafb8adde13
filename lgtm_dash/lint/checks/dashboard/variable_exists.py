from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ...context import QUERY_FIELDS, LintContext
from ...dashview import panel_label, ref_uid
from ...findings import Finding, Severity
from ...inputs import DashboardDoc, PanelDoc
from ...interpolate import variable_references
from ...registry import Check, register

# Variables Grafana (or a legacy datasource) provides without a templating entry.
LEGACY_BUILTINS = frozenset({"interval", "timeFilter", "timeFilterSeconds"})


@register
class VariableExists(Check):
    r"""Every `$variable` a query, title or datasource uses is defined by the dashboard.

    ## What it does
    Reports `$var`, `${var}` and `[[var]]` in panel queries, titles and datasources and in variable queries that
    name neither a variable of the dashboard's templating nor an `__inputs` entry of an exported dashboard
    (`${DS_PROMETHEUS}`). Grafana's globals (`$__interval`, `$__range`...) and regex groups (`$1`) are fine.

    ## Why is this bad?
    Grafana leaves an unknown variable as written: the query asks for a label value `$job` that no series has,
    and the panel is empty.

    ## Example
    ```json
    {"uid": "http", "title": "HTTP", "panels": [
      {"id": 1, "type": "timeseries", "title": "Requests",
       "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total{job=\"$job\"}[$__rate_interval]))"}]}]}
    ```
    ```text
    0: dashboard 'http', panel 'Requests': undefined variable $job
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP",
     "templating": {"list": [{"name": "job", "type": "query", "query": "label_values(up, job)"}]},
     "panels": [{"id": 1, "type": "timeseries", "title": "Requests",
       "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total{job=\"$job\"}[$__rate_interval]))"}]}]}
    ```
    """

    id = "dashboard/variable-exists"
    severity = Severity.ERROR

    def check_dashboard(self, dash: DashboardDoc, ctx: LintContext) -> Iterable[Finding]:
        defined = {str(v.get("name")) for v in dash.templating}
        defined |= {str(i.get("name")) for i in dash.data.get("__inputs") or [] if isinstance(i, Mapping)}
        for panel in dash.panels:
            texts = [panel.title, str(ref_uid(panel.data.get("datasource")) or "")]
            for target in panel.data.get("targets") or []:
                if isinstance(target, Mapping):
                    texts += [target[f] for f in QUERY_FIELDS if isinstance(target.get(f), str)]
            yield from self._undefined(ctx, dash, panel, texts, defined)
        for variable in dash.templating:
            query = variable.get("query")
            texts = [query if isinstance(query, str) else "", str(variable.get("regex") or "")]
            yield from self._undefined(ctx, dash, None, texts, defined, f"variable {variable.get('name')!r}")

    def _undefined(
        self, ctx: LintContext, dash: DashboardDoc, panel: PanelDoc | None, texts: list[str],
        defined: set[str], what: str = "",
    ) -> Iterator[Finding]:  # fmt: skip
        missing: list[str] = []
        for text in texts:
            for name in variable_references(text):
                if name in defined or name in missing or name.startswith("__") or name.isdigit():
                    continue
                if name in LEGACY_BUILTINS:
                    continue
                missing.append(name)
        if missing:
            where = panel_label(dash, panel) if panel else f"{dash.label}, {what}"
            names = ", ".join(f"${n}" for n in missing)
            yield self.report(ctx, f"{where}: undefined variable {names}", dashboard=dash, panel=panel)
