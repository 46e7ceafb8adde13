from __future__ import annotations

from collections.abc import Iterable

from ...context import LintContext
from ...findings import Finding, Severity
from ...inputs import INPUT_SYNTAX
from ...registry import Check, register


@register
class InputSyntax(Check):
    """Every file given to lint is readable JSON or YAML.

    ## What it does
    Reports a dashboard file that is not valid JSON and a rule file that is not valid YAML (or cannot be read
    at all), at the line where parsing stopped. The other files of the run are still linted; only a path that
    does not exist stops the run (exit 2).

    ## Why is this bad?
    Grafana, Mimir and promtool refuse the file; nothing in it is checked by any other rule.

    ## Example
    ```json
    {"uid": "http", "title": "HTTP",
     "panels": [}
    ```
    ```text
    2: invalid JSON: Expecting value
    ```

    ## Use instead
    ```json
    {"uid": "http", "title": "HTTP",
     "panels": []}
    ```
    """

    id = "input/syntax"
    severity = Severity.ERROR

    def check_run(self, ctx: LintContext) -> Iterable[Finding]:
        return [p for p in ctx.input.problems if p.rule == INPUT_SYNTAX]
