"""`lgtm-dash configmaps`: manifests a Helm-provisioned Grafana (and Mimir) picks up as they are."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from lgtm_dash.artifacts import read_artifacts
from lgtm_dash.compile import build
from lgtm_dash.k8s import MAX_CLIENT_SIDE_APPLY_BYTES, MAX_CONFIGMAP_DATA_BYTES, Options, object_name, render
from lgtm_dash.outdir import MARKER
from tests.helpers import REPO, missing, run_cli

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MANAGED_BY = ("app.kubernetes.io/managed-by", "lgtm-dash")
CANARIES = {
    "QGX_MYSQL_PASSWORD": "canary-mysql-7f3a9c",
    "GRAFANA_TOKEN": "canary-grafana-token-51be",
    "GRAFANA_PASSWORD": "canary-grafana-password-0d2e",
    "MIMIR_API_KEY": "canary-mimir-key-88c1",
    "LOKI_API_KEY": "canary-loki-key-3e07",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0CANARY/B0CANARY/canaryslack",
}


def configmaps(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("--project", str(REPO), "configmaps", *args, env=env)


def read_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def resources(k8s: Path) -> list[dict[str, Any]]:
    return [load(k8s / rel) for rel in load(k8s / "kustomization.yaml")["resources"]]


def dashboard_config_maps(k8s: Path) -> dict[str, dict[str, Any]]:
    """ConfigMaps by the dashboard uid their single `<uid>.json` key holds."""
    found = {}
    for path in sorted((k8s / "dashboards").glob("*.yaml")):
        obj = load(path)
        (key,) = obj["data"]
        found[key.removesuffix(".json")] = obj
    return found


def kubernetes_validate_or_missing():
    try:
        import kubernetes_validate
    except ImportError:
        missing("kubernetes-validate is not installed: pip install -e '.[test]'")
    return kubernetes_validate


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("k8s") / "out"
    build(REPO, "dev", out)
    result = configmaps("--env", "dev", "--out", str(out / "k8s"))
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def scratch_out(built: Path, tmp_path: Path) -> Path:
    """A copy of the built artifacts (without k8s/) to plant odd dashboards in."""
    out = tmp_path / "out"
    shutil.copytree(built, out, ignore=shutil.ignore_patterns("k8s"))
    return out


def plant_dashboard(out: Path, uid: str, size: int) -> dict[str, Any]:
    """A dashboard of about `size` bytes minified, in the QGX folder."""
    folder = next(p for p in (out / "grafana/dashboards").iterdir() if p.is_dir())
    data = {
        "uid": uid,
        "title": f"Generated {uid}",
        "schemaVersion": 41,
        "panels": [
            {"id": i, "type": "text", "options": {"content": "x" * 1000, "mode": "markdown"}}
            for i in range(size // 1050 + 1)
        ],
    }
    (folder / f"{uid}.json").write_text(json.dumps(data, indent=2))
    return data


# --- the committed project's manifests ----------------------------------------------------------


def test_every_object_validates_against_the_kubernetes_schema(built: Path) -> None:
    kubernetes_validate = kubernetes_validate_or_missing()
    k8s = built / "k8s"
    objects = [*resources(k8s), *(load(p) for p in (k8s / "templates").glob("*.yaml"))]
    assert {o["kind"] for o in objects} == {"ConfigMap", "Secret"}
    for version in ("1.29.0", kubernetes_validate.latest_version()):
        for obj in objects:
            kubernetes_validate.validate(obj, version, strict=True)


def test_names_are_dns1123_labels_and_every_object_is_ours(built: Path) -> None:
    k8s = built / "k8s"
    names = []
    for obj in [*resources(k8s), *(load(p) for p in (k8s / "templates").glob("*.yaml"))]:
        meta = obj["metadata"]
        assert DNS1123_LABEL.match(meta["name"]) and len(meta["name"]) <= 63, meta["name"]
        assert meta["labels"][MANAGED_BY[0]] == MANAGED_BY[1]
        assert meta["namespace"] == "monitoring"
        names.append((obj["kind"], meta["name"]))
    assert len(names) == len(set(names))


def test_each_dashboard_reads_back_equal_to_out(built: Path) -> None:
    arts = read_artifacts(built)
    titles = {f["uid"]: f["title"] for f in arts.folders}
    by_uid = dashboard_config_maps(built / "k8s")
    assert set(by_uid) == {d.uid for d in arts.dashboards} and by_uid
    for board in arts.dashboards:
        obj = by_uid[board.uid]
        assert obj["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert obj["metadata"]["annotations"] == {"k8s-sidecar-target-directory": titles[board.folder_uid]}
        text = obj["data"][f"{board.uid}.json"]
        assert json.loads(text) == json.loads(board.path.read_text())
        assert "\n" not in text.rstrip("\n") and len(text) < len(board.path.read_text())  # minified


def test_datasources_config_map_is_the_provisioning_file_as_is(built: Path) -> None:
    k8s = built / "k8s"
    obj = load(k8s / "grafana-datasources.yaml")
    assert obj["metadata"]["labels"]["grafana_datasource"] == "1"
    text = obj["data"]["datasources.yaml"]
    assert text == (built / "grafana/datasources.yaml").read_text()
    # Grafana expands `$VAR` in provisioning files: a literal `$` (Loki's derived-field link) stays `$$`.
    loki = next(ds for ds in yaml.safe_load(text)["datasources"] if ds["type"] == "loki")
    assert loki["jsonData"]["derivedFields"][0]["url"] == "$${__value.raw}"
    # Every other `$` is a `${VAR}` the Secret template names, with an empty value.
    secret = load(next((k8s / "templates").glob("*.secret.yaml")))
    placeholders = set(re.findall(r"\$\{([A-Z0-9_]+)\}", text.replace("$$", "")))
    assert "QGX_MYSQL_PASSWORD" in placeholders
    assert secret["stringData"] == dict.fromkeys(placeholders, "")
    assert "$" not in re.sub(r"\$\{[A-Z0-9_]+\}", "", text.replace("$$", ""))


def test_grafana_chart_values_match_the_manifests(built: Path) -> None:
    values = load(built / "k8s/helm/grafana-values.yaml")
    dashboards = values["sidecar"]["dashboards"]
    assert (dashboards["label"], dashboards["labelValue"]) == ("grafana_dashboard", "1")
    assert dashboards["folderAnnotation"] == "k8s-sidecar-target-directory"
    assert dashboards["provider"]["foldersFromFilesStructure"] is True
    assert values["sidecar"]["datasources"]["label"] == "grafana_datasource"
    secret = load(next((built / "k8s/templates").glob("*.secret.yaml")))
    assert values["envFromSecret"] == secret["metadata"]["name"]


def test_mimir_rules_config_map_holds_one_rule_file_per_namespace(built: Path) -> None:
    kubernetes_validate = kubernetes_validate_or_missing()
    arts = read_artifacts(built)
    if not arts.rule_namespaces:
        pytest.fail("the project defines no rule namespaces: nothing to check")
    (path,) = (built / "k8s").glob("mimir-rules-*.yaml")
    obj = load(path)
    assert set(obj["data"]) == set(arts.rule_namespaces)
    for namespace, text in obj["data"].items():
        # Prometheus rule-file format: the ruler's local storage rejects unknown keys such as `namespace`.
        assert yaml.safe_load(text) == {"groups": arts.rule_namespaces[namespace]}
    # The Helm values mount it as <directory>/<tenant>; the volume spec is valid in a Pod.
    values = load(built / "k8s/helm/mimir-ruler-values.yaml")
    directory = values["mimir"]["structuredConfig"]["ruler_storage"]["local"]["directory"]
    (mount,) = values["ruler"]["extraVolumeMounts"]
    assert mount["mountPath"] == f"{directory}/qgx-dev"
    assert values["ruler"]["extraVolumes"][0]["configMap"]["name"] == obj["metadata"]["name"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "ruler"},
        "spec": {
            "containers": [{"name": "ruler", "image": "grafana/mimir", "volumeMounts": [mount]}],
            "volumes": values["ruler"]["extraVolumes"],
        },
    }
    kubernetes_validate.validate(pod, kubernetes_validate.latest_version(), strict=True)


# Keys Loki's local rule store accepts: it decodes each file strictly (GroupLoader, KnownFields) into rulefmt.
RULEFMT_GROUP_KEYS = {"name", "interval", "query_offset", "limit", "rules", "labels"}
RULEFMT_RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}


def test_loki_rules_config_map_and_ruler_values(built: Path) -> None:
    kubernetes_validate = kubernetes_validate_or_missing()
    arts = read_artifacts(built)
    if not arts.loki_rule_namespaces:
        pytest.fail("the project defines no Loki rule namespaces: nothing to check")
    (path,) = (built / "k8s").glob("loki-rules-*.yaml")
    obj = load(path)
    assert obj["metadata"]["name"] == "loki-rules-qgx-dev"
    assert set(obj["data"]) == set(arts.loki_rule_namespaces)  # the file name is the namespace
    for namespace, text in obj["data"].items():
        data = yaml.safe_load(text)
        assert data == {"groups": arts.loki_rule_namespaces[namespace]}
        for group in data["groups"]:
            assert set(group) <= RULEFMT_GROUP_KEYS
            assert all(set(rule) <= RULEFMT_RULE_KEYS for rule in group["rules"])
    values = load(built / "k8s/helm/loki-ruler-values.yaml")
    ruler = values["loki"]["rulerConfig"]
    assert ruler["storage"] == {"type": "local", "local": {"directory": "/etc/loki-rules"}}
    # Alerts to the Mimir Alertmanager, recorded series to Mimir, links back to Grafana's Loki datasource.
    assert ruler["alertmanager_url"] == "http://mimir-nginx.monitoring.svc/alertmanager"
    assert ruler["remote_write"] == {
        "enabled": True,
        "clients": {"mimir": {"url": "http://mimir-nginx.monitoring.svc/api/v1/push"}},
    }
    assert ruler["external_url"] == "http://localhost:3000"
    assert ruler["datasource_uid"] in {ds["uid"] for ds in arts.datasources if ds["type"] == "loki"}
    for component in ("ruler", "backend", "singleBinary"):  # whichever deployment mode runs the ruler
        (mount,) = values[component]["extraVolumeMounts"]
        assert mount == {
            "name": "lgtm-dash-loki-rules",
            "mountPath": "/etc/loki-rules/qgx-dev",
            "readOnly": True,
        }
        assert values[component]["extraVolumes"] == [
            {"name": "lgtm-dash-loki-rules", "configMap": {"name": obj["metadata"]["name"]}}
        ]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": component.lower()},
            "spec": {
                "containers": [{"name": "loki", "image": "grafana/loki", "volumeMounts": [mount]}],
                "volumes": values[component]["extraVolumes"],
            },
        }
        kubernetes_validate.validate(pod, kubernetes_validate.latest_version(), strict=True)
    assert "&id" not in (built / "k8s/helm/loki-ruler-values.yaml").read_text()  # no YAML anchors


def test_loki_rules_without_a_loki_environment_are_bad_input(built: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    text = (REPO / "environments.yaml").read_text()
    start = text.index("    loki:\n      address: http://localhost:3100\n      tenant: qgx-dev")
    end = text.index("    datasources:", start)
    (project / "environments.yaml").write_text(text[:start] + text[end:])
    result = run_cli(
        "--project", str(project), "configmaps", "--artifacts", str(built), "--out", str(tmp_path / "k8s")
    )
    assert result.returncode == 2, result.stderr
    assert "environment 'dev' has no `loki:` section" in result.stderr and "Traceback" not in result.stderr
    assert "environments.yaml:" in result.stderr
    assert not (tmp_path / "k8s").exists()


def test_kustomization_lists_every_object_and_nothing_else(built: Path) -> None:
    k8s = built / "k8s"
    kustomization = load(k8s / "kustomization.yaml")
    assert kustomization["namespace"] == "monitoring"
    objects = {
        rel
        for rel in read_tree(k8s)
        if rel not in ("kustomization.yaml", MARKER) and not rel.startswith(("helm/", "templates/"))
    }
    assert sorted(objects) == kustomization["resources"]
    assert all("kind" in load(k8s / rel) for rel in objects)


def test_two_runs_are_byte_identical(built: Path, tmp_path: Path) -> None:
    again = tmp_path / "k8s"
    result = configmaps("--artifacts", str(built), "--out", str(again))
    assert result.returncode == 0, result.stderr
    assert read_tree(again) == read_tree(built / "k8s")


def test_no_secret_appears_in_any_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    built = run_cli("build", "--env", "dev", "--out", str(out), env=CANARIES)
    assert built.returncode == 0, built.stderr
    result = configmaps("--env", "dev", "--out", str(out / "k8s"), env=CANARIES)
    assert result.returncode == 0, result.stderr
    tree = read_tree(out / "k8s")
    assert tree
    for rel, text in tree.items():
        for name, value in CANARIES.items():
            assert value not in text, f"{name} leaked into {rel}"
    assert not any(value in result.stdout + result.stderr for value in CANARIES.values())


def test_a_secret_value_in_a_manifest_is_refused_without_showing_it(built: Path, tmp_path: Path) -> None:
    # The MySQL user name is in the provisioning file: pretend it is also the password.
    result = configmaps(
        "--artifacts", str(built), "--out", str(tmp_path / "k8s"), env={"QGX_MYSQL_PASSWORD": "grafana_ro"}
    )
    assert result.returncode == 2
    assert "QGX_MYSQL_PASSWORD" in result.stderr and "grafana_ro" not in result.stderr
    assert not (tmp_path / "k8s").exists()


# --- size limits --------------------------------------------------------------------------------


def test_a_dashboard_over_1_mib_fails_naming_it_and_writes_nothing(scratch_out: Path) -> None:
    previous = scratch_out / "k8s"
    assert configmaps("--out", str(previous)).returncode == 0
    before = read_tree(previous)
    plant_dashboard(scratch_out, "generated-huge", MAX_CONFIGMAP_DATA_BYTES + 10_000)
    result = configmaps("--out", str(previous))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "generated-huge" in result.stderr and "1 MiB" in result.stderr
    assert read_tree(previous) == before
    assert [p.name for p in scratch_out.iterdir() if p.name.startswith(".") and p.name != MARKER] == []


def test_an_object_over_256_kib_warns_about_client_side_apply(scratch_out: Path) -> None:
    data = plant_dashboard(scratch_out, "generated-large", MAX_CLIENT_SIDE_APPLY_BYTES + 20_000)
    result = configmaps("--out", str(scratch_out / "k8s"))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "grafana-dashboard-generated-large" in warnings[0]
    assert "kubectl apply" in warnings[0] and "--server-side" in warnings[0]
    obj = dashboard_config_maps(scratch_out / "k8s")["generated-large"]
    assert json.loads(obj["data"]["generated-large.json"]) == data


# --- options and bad input ----------------------------------------------------------------------


def test_label_annotation_and_namespace_options(built: Path, tmp_path: Path) -> None:
    result = configmaps(
        "--artifacts",
        str(built),
        "--out",
        str(tmp_path / "k8s"),
        "--namespace",
        "observability",
        "--dashboard-label",
        "team.example.com/dashboard=yes",
        "--folder-annotation",
        "grafana_folder",
        "--no-kustomization",
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "k8s/kustomization.yaml").exists()
    for obj in dashboard_config_maps(tmp_path / "k8s").values():
        assert obj["metadata"]["namespace"] == "observability"
        assert obj["metadata"]["labels"]["team.example.com/dashboard"] == "yes"
        assert "grafana_dashboard" not in obj["metadata"]["labels"]
        assert set(obj["metadata"]["annotations"]) == {"grafana_folder"}
    values = load(tmp_path / "k8s/helm/grafana-values.yaml")["sidecar"]["dashboards"]
    assert (values["label"], values["labelValue"], values["folderAnnotation"]) == (
        "team.example.com/dashboard",
        "yes",
        "grafana_folder",
    )


@pytest.mark.parametrize(
    "args",
    [
        ("--dashboard-label", "no-value-separator"),
        ("--dashboard-label", "bad key=1"),
        ("--namespace", "Not_A_Namespace"),
        ("--folder-annotation", "grafana folder"),
    ],
)
def test_bad_options_are_one_line_usage_errors(built: Path, tmp_path: Path, args: tuple[str, str]) -> None:
    result = configmaps("--artifacts", str(built), "--out", str(tmp_path / "k8s"), *args)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1
    assert not (tmp_path / "k8s").exists()


def test_artifacts_built_for_another_environment_are_refused(built: Path, tmp_path: Path) -> None:
    result = configmaps("--env", "prod", "--artifacts", str(built), "--out", str(tmp_path / "k8s"))
    assert result.returncode == 2
    assert "'dev'" in result.stderr and "prod" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "k8s").exists()


def test_a_directory_it_did_not_write_is_never_replaced(built: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "somewhere"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    result = configmaps("--artifacts", str(built), "--out", str(foreign))
    assert result.returncode == 2
    assert (foreign / "notes.txt").read_text() == "keep me"
    result = configmaps("--artifacts", str(built), "--out", str(built))
    assert result.returncode == 2 and (built / "build.json").is_file()


def test_nested_folders_become_a_path_of_titles_with_a_warning(scratch_out: Path) -> None:
    folders_file = scratch_out / "grafana/folders.yaml"
    folders = load(folders_file)["folders"]
    child = folders[0]
    parent = {"uid": "generated-parent", "title": "Platform"}
    child["parentUid"] = parent["uid"]
    folders_file.write_text(yaml.safe_dump({"folders": [parent, *folders]}))
    rendering = render(read_artifacts(scratch_out), "tenant", Options())
    dashboards = [m.obj for m in rendering.manifests if m.path.startswith("dashboards/")]
    assert dashboards
    for obj in dashboards:
        assert obj["metadata"]["annotations"]["k8s-sidecar-target-directory"] == f"Platform/{child['title']}"
    assert any("nested" in w and "Platform" in w for w in rendering.warnings)


def test_a_folder_title_that_is_not_a_directory_name_is_bad_input(scratch_out: Path) -> None:
    folders_file = scratch_out / "grafana/folders.yaml"
    data = load(folders_file)
    data["folders"][0]["title"] = "Team A/B"
    folders_file.write_text(yaml.safe_dump(data))
    result = configmaps("--out", str(scratch_out / "k8s"))
    assert result.returncode == 2 and "Team A/B" in result.stderr
    assert result.stderr.count("\n") == 1 and not (scratch_out / "k8s").exists()


# --- the Alertmanager fallback values -----------------------------------------------------------

ALERTMANAGER_CONFIG = "route:\n  receiver: slack\nreceivers:\n- name: slack\n"


def test_alertmanager_fallback_values_are_copied_when_the_build_wrote_them(scratch_out: Path) -> None:
    fallback = scratch_out / "mimir/alertmanager-fallback-values.yaml"
    fallback.parent.mkdir(parents=True, exist_ok=True)
    fallback.write_text("alertmanager:\n  fallbackConfig:\n    route: {receiver: team}\n")
    rendering = render(read_artifacts(scratch_out), "tenant", Options())
    assert rendering.files["helm/mimir-alertmanager-fallback-values.yaml"] == fallback.read_text()


def test_alertmanager_fallback_values_are_derived_from_the_api_body(scratch_out: Path) -> None:
    (scratch_out / "mimir/alertmanager-fallback-values.yaml").unlink(missing_ok=True)
    body = scratch_out / "mimir/alertmanager.yaml"
    body.parent.mkdir(parents=True, exist_ok=True)
    body.write_text(yaml.safe_dump({"template_files": {}, "alertmanager_config": ALERTMANAGER_CONFIG}))
    rendering = render(read_artifacts(scratch_out), "tenant", Options())
    values = yaml.safe_load(rendering.files["helm/mimir-alertmanager-fallback-values.yaml"])
    assert values == {"alertmanager": {"fallbackConfig": yaml.safe_load(ALERTMANAGER_CONFIG)}}


# --- names --------------------------------------------------------------------------------------


def test_object_names_are_valid_deterministic_and_distinct() -> None:
    long_a, long_b = "a" * 80 + "-one", "a" * 80 + "-two"
    names = [
        object_name("grafana-dashboard-", uid)
        for uid in ("qgx-backend-logs", "QGX_Backend_Logs", "qgx_backend_logs", long_a, long_b)
    ]
    assert names[0] == "grafana-dashboard-qgx-backend-logs"
    assert len(set(names)) == len(names)
    for name in names:
        assert DNS1123_LABEL.match(name) and len(name) <= 63, name
    assert object_name("grafana-dashboard-", long_a) == names[3]
