"""The examples of each rule's docstring, runnable: what `## Example` must report and `## Use instead` must not.

Fenced blocks hold the input: `promql`, `logql` or `sql` (`sql time_series` for a time-series target) is the
query of panel 'Example' on dashboard 'example' with a datasource of that kind; `json` is a dashboard file;
`yaml` a rule file (`rules.yaml`), `yaml loki` a Loki ruler rule file (LogQL expressions); `yaml catalog` the
metric catalog; `yaml datasources` the provisioned datasources; `sql schema` the MySQL schema. The `text` block under `## Example` lists the exact findings of the
rule, one `LINE: MESSAGE` per line. The input is linted as a complete build, with that rule alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..source import project_root, set_project_root
from .context import Catalog
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


def examples(check: type[Check]) -> list[Example]:
    sections = doc_sections(check)
    found = []
    for heading, bad in (("Example", True), ("Use instead", False)):
        blocks = [
            Block(*[*info.split(None, 1), ""][:2], text=body)  # type: ignore[misc]
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
    from .engine import lint

    workdir.mkdir(parents=True, exist_ok=True)
    lint_input = LintInput(complete=True)
    catalog_data: dict = {}
    queries: list[Block] = []
    for block in example.blocks:
        if block.language == "yaml" and block.role in ("catalog", "datasources"):
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
        findings = lint(lint_input, catalog=catalog, checks=[check()], project=workdir, jobs=1)
    finally:
        set_project_root(previous)
    return [f for f in findings if f.rule == check.id]


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
