"""The examples of each rule's docstring, runnable: what `## Example` must report and `## Use instead` must not.

Fenced blocks hold the input: `promql`, `logql` or `sql` (`sql time_series` for a time-series target) is the
query of panel 'Example' on dashboard 'example' with a datasource of that kind; `json` is a dashboard file;
`yaml` a rule file (`rules.yaml`), `yaml loki` a Loki ruler rule file (LogQL expressions); `yaml catalog` the
metric catalog; `yaml datasources` the provisioned datasources; `sql schema` the MySQL schema. The `text` block
under `## Example` lists the exact findings of the rule, one `LINE: MESSAGE` per line. The input is linted as a
complete build, with that rule alone.

The examples of the `live/...` rules also say what the servers hold: `yaml server` (series, metadata, Loki
streams, failures; see lgtm_dash/live/held.py) and `sql server` (the live database's tables); and optionally
`yaml environments` (else `DEFAULT_ENVIRONMENTS`: datasources `prometheus`, `loki` and `mysql` of environment
`dev`). The live run is the real one (routing, selectors, the gatherer's rounds, the rules) with the servers'
answers taken from those blocks instead of HTTP; asking real servers is tested in tests/test_live_lint.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..source import project_root, set_project_root
from .context import Catalog, LintContext
from .findings import Finding
from .inputs import LintInput, for_ruler, read_text
from .registry import Check, doc_sections

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
QUERY_DATASOURCES = {
    "promql": {"type": "prometheus", "uid": "prometheus"},
    "logql": {"type": "loki", "uid": "loki"},
    "sql": {"type": "mysql", "uid": "mysql"},
}
EXPECTED = re.compile(r"^(\d+): (.*)$")
DEFAULT_ENVIRONMENTS = """\
environments:
  dev:
    grafana: {url: "http://grafana:3000"}
    mimir: {address: "http://mimir:8080", tenant: dev}
    datasources:
      prometheus: {url: "http://mimir:8080/prometheus", tenant: dev}
      loki: {url: "http://loki:3100", tenant: dev}
      mysql: {url: "mysql:3306", database: app, user: grafana}
"""
# The moment the examples' live runs ask about (their window ends here).
EXAMPLE_NOW_S = 1_800_000_000


@dataclass(frozen=True)
class Block:
    language: str
    role: str
    text: str


@dataclass(frozen=True)
class Example:
    rule: str
    bad: bool  # `## Example` (must report exactly `expected`) or `## Use instead` (must report nothing)
    blocks: tuple[Block, ...]
    expected: tuple[tuple[int, str], ...] = ()


def _language_and_role(info: str) -> tuple[str, str]:
    """A fence's info string: `promql`, or a language and a role like `yaml catalog`."""
    language, role = [*info.split(None, 1), ""][:2]
    return language, role


def examples(check: type[Check]) -> list[Example]:
    sections = doc_sections(check)
    found = []
    for heading, bad in (("Example", True), ("Use instead", False)):
        blocks = [
            Block(*_language_and_role(info), text=body)
            for info, body in FENCE.findall(sections.get(heading, ""))
        ]
        expected: list[tuple[int, str]] = []
        for block in [b for b in blocks if b.language == "text"]:
            for line in block.text.strip().splitlines():
                match = EXPECTED.match(line)
                if match is None:
                    raise ValueError(f"{check.id}: expected `LINE: MESSAGE` in the text block, got {line!r}")
                expected.append((int(match.group(1)), match.group(2)))
        inputs = tuple(b for b in blocks if b.language != "text")
        found.append(Example(check.id, bad, inputs, tuple(expected)))
    return found


def run_example(check: type[Check], example: Example, workdir: Path) -> list[Finding]:
    """Lint the example's input with `check` alone; the findings of that rule."""
    from .engine import lint_context

    workdir.mkdir(parents=True, exist_ok=True)
    lint_input = LintInput(complete=True)
    catalog_data: dict = {}
    queries: list[Block] = []
    live: dict[str, str] = {}
    for block in example.blocks:
        if block.role in ("server", "environments"):
            live[f"{block.language} {block.role}"] = block.text
        elif block.language == "yaml" and block.role in ("catalog", "datasources"):
            data = yaml.safe_load(block.text)
            if block.role == "catalog":
                catalog_data.update(data or {})
            else:
                lint_input.datasources = list(data or [])
        elif block.language == "sql" and block.role == "schema":
            (workdir / "schema.sql").write_text(block.text)
            catalog_data.setdefault("mysql", {})["schema"] = "schema.sql"
        elif block.language in QUERY_DATASOURCES:
            queries.append(block)
        elif block.language == "json":
            lint_input.extend(read_text(block.text, "dashboard.json"))
        elif block.language == "yaml" and block.role == "loki":
            part = read_text(block.text, "rules.yaml")
            part.rule_groups = for_ruler(part.rule_groups, "loki")
            lint_input.extend(part)
        elif block.language == "yaml":
            lint_input.extend(read_text(block.text, "rules.yaml"))
        else:
            raise ValueError(f"{check.id}: unknown example block `{block.language} {block.role}`")
    if queries:
        lint_input.extend(read_text(json.dumps(_query_dashboard(queries)), "example.json"))
    catalog = None
    if catalog_data:
        (workdir / "catalog.yaml").write_text(yaml.safe_dump(catalog_data))
        catalog = Catalog.load(workdir / "catalog.yaml")
    lint_input.complete = True
    previous = project_root()
    set_project_root(workdir)  # files are shown relative to the example's directory
    try:
        ctx = LintContext(lint_input, catalog=catalog, project=workdir)
        if check.live:
            ctx.live = _live_answers(ctx, live, workdir)
        findings = lint_context(ctx, checks=[check()], jobs=1)
    finally:
        set_project_root(previous)
    return [f for f in findings if f.rule == check.id]


def _live_answers(ctx: LintContext, blocks: dict[str, str], workdir: Path) -> Any:
    """The example's live run: planned and gathered as `lint --live` does, answered from what it holds."""
    from ..environments import load_environments
    from ..live.held import Held, HeldGatherer
    from ..live.run import LiveOptions, live_answers

    (workdir / "environments.yaml").write_text(blocks.get("yaml environments", DEFAULT_ENVIRONMENTS))
    env = load_environments(workdir)["dev"]
    held = Held(yaml.safe_load(blocks.get("yaml server", "")), blocks.get("sql server"))
    options = LiveOptions(env=env, now=EXAMPLE_NOW_S, environ={})
    return live_answers(ctx, options, lambda *args, **kwargs: HeldGatherer(held, *args, **kwargs))


def _query_dashboard(blocks: list[Block]) -> dict:
    targets = []
    for index, block in enumerate(blocks):
        datasource = QUERY_DATASOURCES[block.language]
        target: dict = {"refId": chr(ord("A") + index), "datasource": datasource}
        if block.language == "sql":
            target.update(rawSql=block.text.strip(), rawQuery=True, format=block.role or "table")
        else:
            target["expr"] = block.text.strip()
        targets.append(target)
    panel = {
        "id": 1,
        "type": "timeseries",
        "title": "Example",
        "datasource": QUERY_DATASOURCES[blocks[0].language],
        "gridPos": {"x": 0, "y": 0, "w": 24, "h": 8},
        "targets": targets,
    }
    return {"uid": "example", "title": "Example", "panels": [panel]}
