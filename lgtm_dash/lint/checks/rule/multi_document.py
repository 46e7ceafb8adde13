from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext
from ...findings import Finding, Severity
from ...registry import Check, register


@register
class MultiDocument(Check):
    """A rule file holds one YAML document.

    ## What it does
    Reports the first rule group of every YAML document after the first one (after a `---` line) in a rule
    file. (PrometheusRule resources are read one per document, as Kubernetes manifests are.)

    ## Why is this bad?
    Prometheus and promtool read only the first document of a rule file (logging "Multiple document yaml rules
    files are not supported"): the rules after `---` are silently never evaluated.

    ## Example
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
    ---
    groups:
      - name: pods
        rules:
          - alert: PodRestarting
            expr: increase(kube_pod_container_status_restarts_total[15m]) > 3
    ```
    ```text
    8: rule group 'pods' is in YAML document 2 of rules.yaml: Prometheus reads only the first document of a rule file
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules:
          - alert: HighErrorRate
            expr: sum(rate(http_errors_total[5m])) > 1
      - name: pods
        rules:
          - alert: PodRestarting
            expr: increase(kube_pod_container_status_restarts_total[15m]) > 3
    ```
    """

    id = "rule/multi-document"
    severity = Severity.WARNING

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        reported: set[tuple[str, int]] = set()
        for group in ctx.input.rule_groups:
            if group.document and (group.file, group.document) not in reported and not group.resource:
                reported.add((group.file, group.document))
                yield self.report(
                    ctx, f"rule group {group.name!r} is in YAML document {group.document + 1} of "
                    f"{group.file.rsplit('/', 1)[-1]}: Prometheus reads only the first document of a rule file",
                    group=group,
                )  # fmt: skip
