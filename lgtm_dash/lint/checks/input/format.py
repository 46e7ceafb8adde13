from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import INPUT_FORMAT
from ...registry import Check, register


@register
class InputFormat(Check):
    """Every file given to lint is a dashboard or a rule file.

    ## What it does
    Reports a file named on the command line that parses but is neither a Grafana dashboard (no `panels`,
    `rows` or `spec`) nor a rule file (no `groups:` list): a promtool test file, an Alertmanager configuration, a
    file with another extension. Walking a directory, such files are skipped instead. An empty rule file
    (`null`, `{}`, `groups: []`) is a valid rule file with no rules.

    ## Why is this bad?
    The file was meant to be checked and nothing in it was: usually the wrong path, or a misspelt top-level key
    (`group:` for `groups:`).

    ## Example
    ```yaml
    group:
      - name: http
        rules: []
    ```
    ```text
    1: not a rule file: expected a `groups:` list
    ```

    ## Use instead
    ```yaml
    groups:
      - name: http
        rules: []
    ```
    """

    id = "input/format"
    severity = Severity.ERROR

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        return [p for p in ctx.input.problems if p.rule == INPUT_FORMAT]
