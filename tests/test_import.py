"""`lgtm-dash init` and `lgtm-dash import`: a new project builds at once; imported dashboards and rule files
come back from the build exactly; the generated code is the team's style, deterministic and ruff-clean."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lgtm_dash.cli import main
from lgtm_dash.testing import GrafanaEmulator, MimirEmulator
from tests.helpers import REPO, point_at_emulators, run_cli

OWN_DASHBOARDS = sorted((REPO / "out/grafana/dashboards/qgx").glob("*.json"))


def cli(*args: str) -> tuple[int, str]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(list(args))
    return code, output.getvalue()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "team-dashboards"
    assert cli("init", str(root))[0] == 0
    return root


def built(root: Path, uid: str) -> dict[str, Any]:
    return json.loads(next((root / "out/grafana/dashboards").glob(f"*/{uid}.json")).read_text())


def modules(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for package in ("dashboards", "alerts", "datasources")
        for p in sorted((root / package).glob("*.py"))
    }


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if path.suffix == ".json" else yaml.safe_dump(data, sort_keys=False))
    return path


# --- init ----------------------------------------------------------------------------------------------


def test_init_creates_a_project_that_builds_and_lints_clean(tmp_path: Path) -> None:
    root = tmp_path / "team-dashboards"
    result = run_cli("init", str(root))
    assert result.returncode == 0, result.stderr
    for name in ("datasources/prometheus.py", "dashboards/_folders.py", "alerts/__init__.py", "environments.yaml",
                 "catalog.yaml", "README.md", "Makefile", "pyproject.toml", ".gitignore", "out/build.json"):  # fmt: skip
        assert (root / name).is_file(), name
    environments = yaml.safe_load((root / "environments.yaml").read_text())
    assert list(environments["environments"]) == ["dev"]
    assert "token_env" in environments["environments"]["dev"]["grafana"]  # a variable's name, never a value
    for command in (("build", "--project", str(root)), ("build", "--check", "--project", str(root))):
        assert run_cli(*command).returncode == 0
    lint = run_cli("lint", "--project", str(root), "--format", "json")
    assert (lint.returncode, json.loads(lint.stdout)) == (0, [])
    assert (
        subprocess.run([sys.executable, "-m", "ruff", "check", str(root)], capture_output=True).returncode
        == 0
    )


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = run_cli("init", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "not empty" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


# --- dashboards ------------------------------------------------------------------------------------------


def test_own_dashboards_come_back_as_the_helper_code_that_made_them(project: Path) -> None:
    code, output = cli("import", "--project", str(project), *map(str, OWN_DASHBOARDS))
    assert code == 0, output
    assert cli("build", "--project", str(project))[0] == 0
    for path in OWN_DASHBOARDS:
        assert built(project, path.stem) == json.loads(path.read_text()), path.name
    source = (project / "dashboards/qgx_http_overview.py").read_text()
    for helper in (
        "layout(",
        "row(",
        "stat(",
        "timeseries(",
        "table(",
        "prom_target(",
        "query_variable(",
        "thresholds(",
    ):
        assert helper in source, helper
    assert " panel(" not in source and "target(" not in source.replace("prom_target(", "")
    # the datasources the dashboards use are declared, as external, with the type the references give
    assert (
        'external(uid="qgx-mimir", type="prometheus", name="qgx-mimir")'
        in (project / "datasources/qgx_mimir.py").read_text()
    )


def test_import_is_deterministic_and_ruff_clean(tmp_path: Path) -> None:
    sources = [*map(str, OWN_DASHBOARDS[:2]), str(REPO / "out/mimir/rules/qgx-http.yaml")]
    roots = [tmp_path / "a", tmp_path / "b"]
    for root in roots:
        assert cli("init", str(root))[0] == 0
        assert cli("import", "--project", str(root), *sources)[0] == 0
    assert modules(roots[0]) == modules(roots[1])
    for root in roots:
        check = subprocess.run(
            [sys.executable, "-m", "ruff", "check", str(root)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout
        fmt = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--check", str(root)], capture_output=True, text=True
        )
        assert fmt.returncode == 0, fmt.stdout


def test_an_existing_module_is_kept_unless_forced(project: Path) -> None:
    path = str(OWN_DASHBOARDS[0])
    assert cli("import", "--project", str(project), path)[0] == 0
    module = project / "dashboards/qgx_backend_logs.py"
    module.write_text(module.read_text() + "# edited by hand\n")
    code, output = cli("import", "--project", str(project), path)
    assert code == 2
    assert "dashboards/qgx_backend_logs.py exists" in output and "--force" in output
    assert module.read_text().endswith("# edited by hand\n")
    assert cli("import", "--project", str(project), "--force", path)[0] == 0
    assert not module.read_text().endswith("# edited by hand\n")


def test_a_bad_file_is_reported_and_the_others_are_imported(project: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"title": "x",\n "panels": [}')
    code, output = cli("import", "--project", str(project), str(broken), str(OWN_DASHBOARDS[0]))
    assert code == 2
    assert "error: " in output and f"{broken}:2: invalid JSON" in output
    assert (project / "dashboards/qgx_backend_logs.py").is_file()
    assert cli("build", "--project", str(project))[0] == 0


LEGACY_EXPORT = {
    "__inputs": [{"name": "DS_PROM", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus"}],
    "title": "Legacy Service",
    "uid": "legacy-service",
    "schemaVersion": 14,
    "rows": [
        {
            "title": "Traffic",
            "showTitle": True,
            "height": "250px",
            "panels": [
                {
                    "id": 1,
                    "type": "graph",
                    "title": "Requests",
                    "span": 6,
                    "datasource": "${DS_PROM}",
                    "targets": [{"expr": "sum(rate(up[5m]))", "legendFormat": "{{job}}", "refId": "A"}],
                    "yaxes": [
                        {"format": "reqps", "show": True, "min": 0},
                        {"format": "short", "show": False},
                    ],
                    "lines": True,
                    "fill": 1,
                    "linewidth": 2,
                    "legend": {
                        "show": True,
                        "values": True,
                        "current": True,
                        "max": True,
                        "alignAsTable": True,
                    },
                },
                {
                    "id": 2,
                    "type": "singlestat",
                    "title": "Up",
                    "span": 6,
                    "datasource": "${DS_PROM}",
                    "targets": [{"expr": "min(up)", "refId": "A"}],
                    "valueName": "current",
                    "thresholds": "0.5,1",
                    "colors": ["red", "orange", "green"],
                    "valueMaps": [{"op": "=", "text": "N/A", "value": "null"}],
                    "mappingType": 1,
                },
            ],
        }
    ],
}


def test_a_grafana_com_export_is_migrated_like_grafana_loads_it(project: Path, tmp_path: Path) -> None:
    export = write(
        tmp_path / "legacy.json",
        {"dashboard": LEGACY_EXPORT, "meta": {"folderUid": "team", "folderTitle": "Team"}},
    )
    code, output = cli("import", "--project", str(project), str(export))
    assert code == 0, output
    assert "graph → timeseries (as Grafana migrates it on load)" in output
    assert (
        "singlestat → stat" in output
        and "input DS_PROM (prometheus): the project's datasource 'prometheus'" in output
    )
    source = (project / "dashboards/legacy_service.py").read_text()
    assert 'FOLDER = Folder(uid="team", title="Team")' in source
    assert "PROMETHEUS = prometheus.ref()" in source  # the project's datasource object, not a literal
    assert cli("build", "--project", str(project))[0] == 0
    data = built(project, "legacy-service")
    assert (project / "out/grafana/dashboards/team/legacy-service.json").is_file()
    row, graph, stat = data["panels"]
    assert (row["type"], row["title"], row["gridPos"]) == (
        "row",
        "Traffic",
        {"x": 0, "y": 0, "w": 24, "h": 7},
    )
    assert graph["gridPos"] == {"x": 0, "y": 1, "w": 12, "h": 7} and stat["gridPos"]["x"] == 12
    assert graph["type"] == "timeseries" and graph["datasource"] == {
        "uid": "prometheus",
        "type": "prometheus",
    }
    assert (
        graph["fieldConfig"]["defaults"]["unit"] == "reqps" and graph["fieldConfig"]["defaults"]["min"] == 0
    )
    assert graph["fieldConfig"]["defaults"]["custom"]["fillOpacity"] == 10
    assert graph["options"]["legend"] == {
        "displayMode": "table",
        "showLegend": True,
        "placement": "bottom",
        "calcs": ["lastNotNull", "max"],
    }
    assert stat["type"] == "stat" and stat["options"]["reduceOptions"] == {"calcs": ["lastNotNull"]}
    assert stat["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "red", "value": None}, {"color": "orange", "value": 0.5}, {"color": "green", "value": 1}
    ]  # fmt: skip
    assert stat["fieldConfig"]["defaults"]["mappings"] == [
        {"type": "special", "options": {"match": "null", "result": {"text": "N/A"}}}
    ]


def test_an_input_without_a_datasource_of_its_type_becomes_a_datasource_variable(
    project: Path, tmp_path: Path
) -> None:
    dashboard = {**LEGACY_EXPORT, "uid": "legacy-mysql"}
    dashboard["__inputs"] = [{"name": "DS_PROM", "type": "datasource", "pluginId": "mysql", "label": "DB"}]
    code, output = cli("import", "--project", str(project), str(write(tmp_path / "d.json", dashboard)))
    assert code == 0 and "kept as a datasource variable ${DS_PROM}" in output
    assert cli("build", "--project", str(project))[0] == 0
    data = built(project, "legacy-mysql")
    assert data["templating"]["list"][0] == {
        "name": "DS_PROM",
        "type": "datasource",
        "query": "mysql",
        "label": "DB",
    }
    assert data["panels"][1]["datasource"] == {"uid": "${DS_PROM}"}
    lint = run_cli("lint", "--project", str(project), "--format", "json")
    assert not [f for f in json.loads(lint.stdout) if f["severity"] == "error" and "datasource" in f["rule"]]


def test_every_panel_type_keeps_every_option(project: Path, tmp_path: Path) -> None:
    panels = [
        {
            "id": n,
            "type": kind,
            "title": kind,
            "gridPos": {"x": 0, "y": 8 * n, "w": 24, "h": 8},
            "options": {"anything": {"nested": [1, None, "x"]}, "mode": kind},
            "fieldConfig": {"defaults": {"custom": {"plugin": kind}, "unit": "short"}, "overrides": []},
            "pluginVersion": "11.3.0",
            "transformations": [{"id": "organize", "options": {"x": 1}}],
        }
        for n, kind in enumerate(
            [
                "text",
                "gauge",
                "heatmap",
                "histogram",
                "state-timeline",
                "status-history",
                "barchart",
                "traces",
                "nodeGraph",
                "alertlist",
                "dashlist",
                "news",
                "canvas",
                "geomap",
                "xychart",
                "flamegraph",
                "some-vendor-panel",
            ]
        )
    ]
    panels.append(
        {
            "id": 99,
            "gridPos": {"x": 0, "y": 500, "w": 12, "h": 4},
            "libraryPanel": {"uid": "lib", "name": "Shared"},
        }
    )
    dashboard = {"uid": "all-panels", "title": "All panels", "schemaVersion": 41, "panels": panels,
                 "fiscalYearStartMonth": 3, "weekStart": "monday", "liveNow": True}  # fmt: skip
    assert cli("import", "--project", str(project), str(write(tmp_path / "all.json", dashboard)))[0] == 0
    assert cli("build", "--project", str(project))[0] == 0
    data = built(project, "all-panels")
    assert data["panels"] == panels
    assert (data["fiscalYearStartMonth"], data["weekStart"], data["liveNow"]) == (3, "monday", True)
    assert "timezone" not in data and "annotations" not in data  # nothing grafanalib would add
    assert 'panel(\n                "canvas",' in (project / "dashboards/all_panels.py").read_text()


# --- rules -----------------------------------------------------------------------------------------------

MIMIR_FILE = """\
namespace: team-slo
groups:
  - name: slo
    interval: 30s
    query_offset: 1m
    limit: 10
    rules:
      - record: job:errors:ratio_rate5m
        expr: |
          sum by (job) (rate(errors_total[5m]))
            /
          sum by (job) (rate(requests_total[5m]))
        labels:
          team: core
      - alert: HighErrorRatio
        expr: job:errors:ratio_rate5m > 0.05
        for: 10m
        keep_firing_for: 5m
        labels: {severity: critical}
        annotations:
          summary: "{{ $labels.job }} fails {{ $value | humanizePercentage }}"
"""
PROMETHEUS_RULE = """\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: node-rules, namespace: monitoring}
spec:
  groups:
    - name: node
      rules:
        - alert: NodeDown
          expr: up{job="node"} == 0
          for: 5m
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
"""


def test_rule_files_round_trip_exactly(project: Path, tmp_path: Path) -> None:
    (tmp_path / "slo.yaml").write_text(MIMIR_FILE)
    (tmp_path / "node.yaml").write_text(PROMETHEUS_RULE)
    code, output = cli(
        "import", "--project", str(project), str(tmp_path / "slo.yaml"), str(tmp_path / "node.yaml")
    )
    assert code == 0, output
    assert cli("build", "--project", str(project))[0] == 0
    team = yaml.safe_load((project / "out/mimir/rules/team-slo.yaml").read_text())
    assert team == yaml.safe_load(MIMIR_FILE)
    node = yaml.safe_load((project / "out/mimir/rules/node-rules.yaml").read_text())
    assert node["groups"] == yaml.safe_load(PROMETHEUS_RULE.split("---")[0])["spec"]["groups"]
    source = (project / "alerts/team_slo.py").read_text()
    assert 'keep_firing_for="5m"' in source and "query_offset=" in source and "limit=10" in source
    assert (
        '"""sum by (job) (rate(errors_total[5m]))\n  /\nsum by (job) (rate(requests_total[5m]))\n"""'
        in source
    )


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (
            "groups:\n  - name: g\n    rules:\n      - record: a\n        alert: b\n        expr: up\n",
            4,
            "exactly one of alert, record",
        ),
        ("groups:\n  - name: g\n    owner: me\n    rules: []\n", 3, "unknown group field 'owner'"),
        (
            "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        for: 5m\n",
            6,
            "cannot have `for`",
        ),
        ("rule_files: [x.yaml]\ntests: []\n", 1, "promtool unit-test file"),
        ("groups: [\n", 2, "invalid YAML"),
    ],
)
def test_a_bad_rule_file_is_one_line_with_its_line(
    project: Path, tmp_path: Path, content: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    code, output = cli("import", "--project", str(project), str(path))
    errors = [x for x in output.splitlines() if x.startswith("error: ")]
    assert code == 2 and len(errors) == 1
    assert errors[0].startswith(f"error: {path}:{line}: ") and message in errors[0]
    assert not (project / "alerts/bad.py").exists()


def test_a_namespace_imported_twice_is_refused(project: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "rules.yaml").write_text(
            "groups:\n  - name: g\n    rules:\n      - record: x:y:z\n        expr: up\n"
        )
    code, output = cli(
        "import", "--project", str(project), str(tmp_path / "a/rules.yaml"), str(tmp_path / "b/rules.yaml")
    )
    assert code == 2 and "rule namespace 'rules' is imported twice" in output
    assert cli("build", "--project", str(project))[0] == 0


# --- live ------------------------------------------------------------------------------------------------

TOKEN = "glsa_import-live-token-0001"


@pytest.fixture
def live(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GrafanaEmulator, MimirEmulator]]:
    with GrafanaEmulator(tokens={TOKEN}) as grafana, MimirEmulator() as mimir:
        point_at_emulators(monkeypatch, grafana.url, mimir.url, TOKEN)
        grafana.add_datasource(
            "Team Prometheus", "prometheus", "P1809F7CD0C75ACF3", url="http://prom:9090", is_default=True
        )
        grafana.seed_folder("platform", "Platform")
        grafana.seed_folder("platform-k8s", "Kubernetes", parent_uid="platform")
        legacy = {k: v for k, v in LEGACY_EXPORT.items() if k != "__inputs"}
        legacy["rows"][0]["panels"][0] = {**legacy["rows"][0]["panels"][0], "datasource": "Team Prometheus"}
        grafana.seed_dashboard({**legacy, "tags": ["k8s"]}, "platform-k8s")
        grafana.seed_dashboard(
            {"uid": "other", "title": "Other", "schemaVersion": 41, "panels": [], "tags": ["misc"]}, ""
        )
        mimir.seed_rule_group("anonymous", "team-slo", yaml.safe_load(MIMIR_FILE)["groups"][0])
        yield grafana, mimir


def test_live_import_reads_dashboards_folders_datasources_and_rules(project: Path, live: Any) -> None:
    code, output = cli(
        "import", "--project", str(project), "--live", "--env", "dev", "--tag", "k8s", "--rules"
    )
    assert code == 0, output
    assert sorted(p.name for p in (project / "dashboards").glob("*.py")) == [
        "__init__.py",
        "_folders.py",
        "legacy_service.py",
    ]
    source = (project / "dashboards/legacy_service.py").read_text()
    assert (
        'Folder(uid="platform-k8s", title="Kubernetes", parent=Folder(uid="platform", title="Platform"))'
        in source
    )
    declared = (project / "datasources/p1809f7cd0c75acf3.py").read_text()
    assert 'external(uid="P1809F7CD0C75ACF3", type="prometheus", name="Team Prometheus")' in declared
    assert (project / "alerts/team_slo.py").is_file()
    assert cli("build", "--project", str(project))[0] == 0
    data = built(project, "legacy-service")
    graph = data["panels"][1]
    assert graph["datasource"] == {
        "uid": "P1809F7CD0C75ACF3",
        "type": "prometheus",
    }  # the name resolved to its uid
    rules = yaml.safe_load((project / "out/mimir/rules/team-slo.yaml").read_text())
    assert rules["groups"][0]["name"] == "slo"


def test_a_grafana_datasource_named_like_a_project_placeholder_is_refused_with_its_dashboards(
    project: Path, live: Any
) -> None:
    grafana, _mimir = live
    grafana.add_datasource(
        "Loki", "loki", "team-loki", url="http://loki:3100"
    )  # init wrote a "Loki" (uid loki)
    logs = {"type": "logs", "title": "Logs", "datasource": {"uid": "team-loki", "type": "loki"}}
    grafana.seed_dashboard({"uid": "logs", "title": "Logs", "schemaVersion": 41, "panels": [logs]}, "")
    code, output = cli("import", "--project", str(project), "--live", "--uid", "logs", "--uid", "other")
    assert code == 2
    assert (
        "datasource 'team-loki' is named 'Loki' in Grafana, like datasources/loki.py (uid 'loki'); names are "
        "unique in Grafana: delete or rename that module (lgtm-dash init writes placeholders), then import again"
    ) in " ".join(output.split())
    assert (
        not (project / "dashboards/logs.py").exists() and not (project / "datasources/team_loki.py").exists()
    )
    assert (project / "dashboards/other.py").is_file()  # the others are still imported
    assert cli("build", "--project", str(project))[0] == 0
    (project / "datasources/loki.py").unlink()  # as the message says
    code, output = cli("import", "--project", str(project), "--live", "--uid", "logs")
    assert code == 0, output
    assert cli("build", "--project", str(project))[0] == 0


def test_live_import_of_one_uid_and_a_missing_one(project: Path, live: Any) -> None:
    code, output = cli("import", "--project", str(project), "--live", "--uid", "other", "--uid", "nope")
    assert code == 2
    assert "no dashboard with uid 'nope'" in output
    assert (project / "dashboards/other.py").is_file() and not (
        project / "dashboards/legacy_service.py"
    ).exists()


def test_live_import_without_credentials_is_a_usage_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    result = run_cli("import", "--project", str(project), "--live")
    assert result.returncode == 2 and "GRAFANA_TOKEN" in result.stderr


def test_module_names_come_from_the_uid_or_the_title_and_are_unique(project: Path, tmp_path: Path) -> None:
    boards = [
        {"uid": "team-overview", "title": "Anything"},
        {"uid": "09ec8aa1e996d6ffcd6817bbaff4db1b", "title": "Kubernetes / API server"},
        {"uid": "nRKDQuX7k", "title": "Kubernetes / API server (copy)"},
        {"uid": "class", "title": "Keyword uid"},
        {"uid": "b59e6c9f2fcbe2e16d77fc492374cc4f", "title": "Kubernetes: API server"},
    ]
    paths = [
        str(write(tmp_path / f"{n}.json", {**b, "schemaVersion": 41, "panels": []}))
        for n, b in enumerate(boards)
    ]
    assert cli("import", "--project", str(project), *paths)[0] == 0
    names = sorted(p.stem for p in (project / "dashboards").glob("*.py") if not p.stem.startswith("_"))
    assert names == [
        "class_",
        "kubernetes_api_server",
        "kubernetes_api_server_2",
        "kubernetes_api_server_copy",
        "team_overview",
    ]
    assert cli("build", "--project", str(project))[0] == 0


def test_import_needs_files_or_live(project: Path) -> None:
    for args in ((), ("--live", "x.json"), ("--uid", "a", "x.json")):
        result = run_cli("import", "--project", str(project), *args)
        assert result.returncode == 2 and result.stderr.startswith("error: "), args


def test_yaml_anchors_and_merge_keys_are_read_as_prometheus_reads_them(project: Path, tmp_path: Path) -> None:
    text = """\
groups:
  - name: g
    rules:
      - &base
        alert: High
        expr: &expr up == 0
        labels: {severity: critical}
      - <<: *base
        alert: High2
      - record: job:up:min
        expr: *expr
"""
    (tmp_path / "anchors.yaml").write_text(text)
    assert cli("import", "--project", str(project), str(tmp_path / "anchors.yaml"))[0] == 0
    assert cli("build", "--project", str(project))[0] == 0
    assert (
        yaml.safe_load((project / "out/mimir/rules/anchors.yaml").read_text())["groups"]
        == yaml.safe_load(text)["groups"]
    )
