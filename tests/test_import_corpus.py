"""Import measured on the world's dashboards and rule files (../shared/corpora).

Each source (a mixin's dashboards with its rules, kube-prometheus, the MySQL examples, promtool's and
rulefmt's test data) is imported into a fresh `lgtm-dash init` project, built, and compared with
`lgtm-dash diff` semantics against the original as Grafana loads it (its load-time migrations) with only
the changes every build makes (README, "Importing"). The baseline's normalisation is written here, apart
from the importer, from that README list. The figures, and every difference left with its reason, are
printed (`pytest -s`); the floors below are the measured rates.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from lgtm_dash.artifacts import Artifacts, read_artifacts
from lgtm_dash.cli import main
from lgtm_dash.diff import diff_artifacts
from lgtm_dash.importer.dashboards import unwrap
from lgtm_dash.importer.datasources import DatasourceIndex, KnownDatasource
from lgtm_dash.importer.migrate import migrate
from lgtm_dash.importer.rules import module_base
from lgtm_dash.lint.engine import lint
from lgtm_dash.lint.findings import Finding, Severity
from lgtm_dash.lint.inputs import read_out_tree
from tests.helpers import corpus

DASHBOARD_FLOOR = 1.0  # measured: 74 of 74
RULE_FILE_FLOOR = 1.0  # measured: 38 of 38
# Keys every build drops (README): instance state and pre-Grafana-5 fields.
DROPPED = ("__inputs", "__requires", "rows", "style", "hideControls", "sharedCrosshair", "id", "version")
DROPPED += ("gnetId", "iteration")
MANAGED_TAG = "lgtm-dash"
LOCATION = re.compile(r"\S+:\d+")
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Source:
    name: str
    dashboards: list[Path]
    rules: list[Path]
    bad_rules: list[Path] = field(default_factory=list)  # files Prometheus refuses: reported, not imported


def sources() -> list[Source]:
    dashboards = corpus("dashboards")
    rules = corpus("rules")
    promtool = json.loads((rules / "promtool-testdata/EXPECTATIONS.json").read_text())
    rulefmt = json.loads((rules / "rulefmt-testdata/EXPECTATIONS.json").read_text())
    promtool_good = [
        rules / "promtool-testdata" / name
        for name, e in sorted(promtool.items())
        if e["kind"] == "rules" and not str(e["static_check"]).startswith("invalid")
    ]
    promtool_bad = [
        rules / "promtool-testdata" / name
        for name, e in sorted(promtool.items())
        if e["kind"] != "rules" or str(e["static_check"]).startswith("invalid")
    ]
    rulefmt_good = [
        rules / "rulefmt-testdata" / n for n, e in sorted(rulefmt.items()) if e["expect"] == "valid"
    ]
    rulefmt_bad = [
        rules / "rulefmt-testdata" / n for n, e in sorted(rulefmt.items()) if e["expect"] != "valid"
    ]
    return [
        Source(
            "mimir-mixin",
            sorted(dashboards.glob("mimir-mixin/*.json")),
            sorted(rules.glob("mimir-mixin/*.yaml")),
        ),
        Source(
            "loki-mixin",
            sorted(dashboards.glob("loki-mixin/*.json")),
            sorted(rules.glob("loki-mixin/*.yaml")),
        ),
        Source(
            "kube-prometheus",
            sorted(dashboards.glob("kube-prometheus/*.json")),
            sorted(rules.glob("kube-prometheus/original/*.yaml")),
        ),
        Source("kube-prometheus-extracted", [], sorted(rules.glob("kube-prometheus/extracted/*.yaml"))),
        Source("mysql", sorted(dashboards.glob("mysql-grafana-devenv/*.json")), []),
        Source("promtool", [], promtool_good, promtool_bad),
        Source("rulefmt", [], rulefmt_good, rulefmt_bad),
    ]


# --- the baseline: the original as Grafana loads it, with the changes every build makes -----------------------


def without_nulls(value: Any, in_steps: bool = False) -> Any:
    if isinstance(value, dict):
        return {
            k: without_nulls(v, k == "steps")
            for k, v in value.items()
            if v is not None or (in_steps and k == "value")
        }
    if isinstance(value, list):
        return [without_nulls(v, in_steps) for v in value]
    return value


def dashboard_baseline(path: Path, index: DatasourceIndex) -> dict[str, Any]:
    data, _ = unwrap(json.loads(path.read_text()))
    loaded = without_nulls(migrate(data, index).dashboard)
    for key in DROPPED:
        loaded.pop(key, None)
    for key in ("description", "links"):
        if key in loaded and not loaded[key]:
            del loaded[key]
    loaded.get("timepicker", {}).pop("time_options", None)
    loaded["schemaVersion"] = 41
    loaded["tags"] = sorted({*loaded.get("tags", []), MANAGED_TAG})
    return loaded


def as_text(value: Any) -> str:
    """A YAML scalar as Prometheus' (Go) decoder reads it into a string field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rule_baseline(path: Path) -> dict[str, list[dict[str, Any]]]:
    """{namespace: groups} as Prometheus reads the file, empty and null fields left out."""
    namespaces: dict[str, list[dict[str, Any]]] = {}
    for document in yaml.load_all(path.read_text(), Loader=FAST_LOADER):
        if not isinstance(document, dict):
            continue
        name = document.get("namespace") or path.stem
        if document.get("kind") == "PrometheusRule":
            name, document = document["metadata"]["name"], document["spec"]
        for group in document.get("groups") or []:
            kept = {k: v for k, v in group.items() if v not in (None, "", {}, [])}
            kept["rules"] = []
            for rule in group["rules"]:
                entry = {}
                for key, value in rule.items():
                    if value in (None, "", {}):
                        continue
                    if isinstance(value, dict):
                        value = {k: as_text(v) for k, v in value.items()}
                    elif key != "limit":
                        value = as_text(value)
                    entry[key] = value
                kept["rules"].append(entry)
            namespaces.setdefault(str(name), []).append(kept)
    return namespaces


# --- lint: errors the imported project has that the originals did not -----------------------------------------


def error_keys(findings: list[Finding]) -> collections.Counter[tuple[Any, ...]]:
    keys: collections.Counter[tuple[Any, ...]] = collections.Counter()
    for f in findings:
        if f.severity == Severity.ERROR:
            # Rule findings are told apart by their message, without the file:line it names (which differ).
            keys[
                (f.rule, f.dashboard, f.panel) if f.dashboard else (f.rule, LOCATION.sub("", f.message))
            ] += 1
    return keys


def write_tree(
    root: Path, built: Artifacts, dashboards: list[dict[str, Any]], rules: dict[str, list]
) -> Path:
    """The baseline in the out/ layout (beside the build's datasources and folders), for diff and lint."""
    root.mkdir(parents=True)
    (root / "build.json").write_text('{"env": "dev"}')
    for name in ("grafana/datasources.yaml", "grafana/datasources-external.yaml", "grafana/folders.yaml"):
        if (built.root / name).exists():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text((built.root / name).read_text())
    for dashboard in dashboards:
        path = root / "grafana/dashboards/dashboards" / f"{dashboard['uid']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dashboard))
    for namespace, groups in rules.items():
        path = root / "mimir/rules" / f"{namespace}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"namespace": namespace, "groups": groups}))  # JSON is YAML, and fast
    return root


# --- the measurement ----------------------------------------------------------------------------------------


@dataclass
class Figures:
    dashboards: int = 0
    dashboards_exact: int = 0
    dashboards_identical: int = 0  # not even a difference `diff` ignores (key order aside)
    rule_files: int = 0
    rule_files_exact: int = 0
    crashes: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    new_errors: list[str] = field(default_factory=list)
    original_errors: int = 0
    imported_errors: int = 0
    bad_reported: list[str] = field(default_factory=list)


def cli(*args: str) -> tuple[int, str]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(list(args))
    return code, output.getvalue()


def measure(source: Source, root: Path, figures: Figures) -> None:
    assert cli("init", str(root))[0] == 0
    init_index = DatasourceIndex.of(
        [KnownDatasource("prometheus", "Prometheus", "prometheus"), KnownDatasource("loki", "Loki", "loki")]
    )
    paths = [str(p) for p in (*source.dashboards, *source.rules, *source.bad_rules)]
    code, output = cli("import", "--project", str(root), *paths)
    failures = [line for line in output.splitlines() if line.startswith("error: ")]
    if "Traceback" in output or code not in (0, 2):
        figures.crashes.append(f"{source.name}: import exited {code}")
    assert cli("build", "--project", str(root))[0] == 0, f"{source.name}: the imported project does not build"
    built = read_artifacts(root / "out")

    baseline_dashboards = [dashboard_baseline(p, init_index) for p in source.dashboards]
    baseline_rules: dict[str, list[dict[str, Any]]] = {}
    rule_file_of: dict[str, Path] = {}
    for path in [*source.rules, *source.bad_rules]:
        with contextlib.suppress(yaml.YAMLError, KeyError, TypeError, AttributeError):
            for namespace, groups in rule_baseline(path).items():
                if namespace in built.rule_namespaces:  # bad files imported anyway count for lint only
                    baseline_rules[namespace] = groups
                    rule_file_of[namespace] = path
    tree = write_tree(root / "baseline", built, baseline_dashboards, baseline_rules)
    report = diff_artifacts(read_artifacts(tree), built)
    changed = {(c.kind, c.key): c for c in report.changes}
    for dashboard, path in zip(baseline_dashboards, source.dashboards):
        figures.dashboards += 1
        change = changed.get(("dashboard", dashboard["uid"]))
        if change is None:
            figures.dashboards_exact += 1
        on_disk = json.loads(
            next((root / "out/grafana/dashboards").glob(f"*/{dashboard['uid']}.json")).read_text()
        )
        if on_disk == dashboard:
            figures.dashboards_identical += 1
        else:
            shown = "; ".join(f"{d.field or d.name}: {d.old} → {d.new}" for d in change.details[:4])
            figures.differences.append(f"{path.name}: {change.status}: {shown}")
    for path in source.rules:
        figures.rule_files += 1
        namespaces = [ns for ns, p in rule_file_of.items() if p == path]
        problems = [f"{c.status} {c.key}" for ns in namespaces if (c := changed.get(("rule namespace", ns)))]
        problems += [f for f in failures if path.name in f]
        problems += [] if namespaces else ["not imported"]
        if problems:
            figures.differences.append(f"{path.name}: {'; '.join(problems)}")
        else:
            figures.rule_files_exact += 1

    built_findings = lint(read_out_tree(root / "out"))
    imported = error_keys(built_findings)
    original = error_keys(lint(read_out_tree(tree)))
    figures.original_errors += sum(original.values())
    figures.imported_errors += sum(imported.values())
    figures.new_errors += [f"{source.name}: {key}" for key in (imported - original)]

    for path in source.bad_rules:
        reported = [f for f in failures if path.name in f]
        namespaces = [ns for ns in built.rule_namespaces if ns == path.stem]
        if reported:
            assert all(len(f.splitlines()) == 1 for f in reported)
            figures.bad_reported.append(f"{path.name}: {reported[0].removeprefix('error: ')}")
        elif namespaces:
            module = f"alerts/{module_base(path.stem)}.py"
            # An error, or a warning where the file is invalid only under one validation scheme (a UTF-8
            # annotation name: Prometheus 3 accepts it, legacy validation does not: lint's rule/utf8-name).
            flagged = [f for f in built_findings if f.file == module]
            assert flagged, f"{path.name}: imported although invalid, and lint finds nothing wrong"
            flagged.sort(
                key=lambda f: (
                    f.severity != Severity.ERROR,
                    f.rule not in ("promql/syntax", "rule/template", "rule/syntax"),
                )
            )
            figures.bad_reported.append(
                f"{path.name}: imported; lint: {flagged[0].rule} {flagged[0].message[:100]}"
            )
        else:
            figures.bad_reported.append(f"{path.name}: not imported")


def test_import_round_trips_the_corpora(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    figures = Figures()
    for source in sources():
        measure(source, tmp_path / source.name, figures)
    dashboard_rate = figures.dashboards_exact / figures.dashboards
    rule_rate = figures.rule_files_exact / figures.rule_files
    with capsys.disabled():
        print(f"\nimport round trip: {figures.dashboards_exact}/{figures.dashboards} dashboards exact ({dashboard_rate:.1%}), "
              f"{figures.rule_files_exact}/{figures.rule_files} rule files exact ({rule_rate:.1%}); "
              f"{figures.dashboards_identical} dashboards identical to the JSON")  # fmt: skip
        for line in figures.differences:
            print(f"  difference: {line}")
        print(f"  lint errors: originals {figures.original_errors}, imported {figures.imported_errors}, "
              f"new {len(figures.new_errors)}")  # fmt: skip
        for line in figures.new_errors:
            print(f"  new lint error: {line}")
        for line in figures.bad_reported:
            print(f"  bad input: {line}")
    assert not figures.crashes, figures.crashes
    assert dashboard_rate >= DASHBOARD_FLOOR, figures.differences
    assert rule_rate >= RULE_FILE_FLOOR, figures.differences
    assert not figures.new_errors, figures.new_errors
