"""The foundation: loading definitions, a deterministic build, the provisioning file, bad input, secrets."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
import yaml

from lgtm_dash.compile import build
from lgtm_dash.environments import resolve_environment
from lgtm_dash.errors import UsageError
from lgtm_dash.load import load_project
from lgtm_dash.secrets import expand, placeholders_in
from tests.helpers import REPO, run_cli

THE_TEAM_S = {"qgx-loki", "qgx-mimir", "qgx-tempo", "qgx-thanos", "qgx-mysql"}


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    build(REPO, "dev", out)
    return out


@pytest.fixture(scope="module")
def provisioning(built: Path) -> dict:
    return yaml.safe_load((built / "grafana/datasources.yaml").read_text())


def by_uid(provisioning: dict) -> dict[str, dict]:
    return {ds["uid"]: ds for ds in provisioning["datasources"]}


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    build(REPO, "dev", tmp_path / "a")
    build(REPO, "dev", tmp_path / "b")
    a, b = read_tree(tmp_path / "a"), read_tree(tmp_path / "b")
    assert a == b
    assert "grafana/datasources.yaml" in a and "sourcemap.json" in a


def test_committed_out_matches_a_fresh_build(built: Path) -> None:
    committed = REPO / "out"
    for rel, data in read_tree(built).items():
        assert (committed / rel).read_bytes() == data, f"out/{rel} is stale: run make build"


@pytest.mark.content
def test_provisioning_file_has_every_datasource_of_datasources(provisioning: dict) -> None:
    assert provisioning["apiVersion"] == 1
    datasources = by_uid(provisioning)
    assert set(datasources) == {ds.uid for ds in load_project(REPO).datasources} >= THE_TEAM_S
    for ds in datasources.values():
        assert {"name", "type", "uid", "access", "url", "orgId"} <= ds.keys()


@pytest.mark.parametrize("uid", ["qgx-loki", "qgx-mimir", "qgx-tempo"])
def test_tenant_header_on_loki_mimir_tempo(provisioning: dict, uid: str) -> None:
    ds = by_uid(provisioning)[uid]
    assert ds["jsonData"]["httpHeaderName1"] == "X-Scope-OrgID"
    assert ds["secureJsonData"]["httpHeaderValue1"] == "qgx-dev"


def test_mimir_and_thanos_are_prometheus_flavours(provisioning: dict) -> None:
    ds = by_uid(provisioning)
    assert (
        ds["qgx-mimir"]["type"] == "prometheus" and ds["qgx-mimir"]["jsonData"]["prometheusType"] == "Mimir"
    )
    assert ds["qgx-mimir"]["url"].endswith("/prometheus")
    assert (
        ds["qgx-thanos"]["type"] == "prometheus"
        and ds["qgx-thanos"]["jsonData"]["prometheusType"] == "Thanos"
    )
    assert "httpHeaderName1" not in ds["qgx-thanos"]["jsonData"]


def test_mysql_password_only_as_placeholder(provisioning: dict) -> None:
    ds = by_uid(provisioning)["qgx-mysql"]
    assert ds["type"] == "mysql" and ds["user"] == "grafana_ro" and ds["jsonData"]["database"] == "qgx"
    host, _, port = ds["url"].partition(":")
    assert host and port.isdigit() and "//" not in ds["url"]
    assert ds["secureJsonData"] == {"password": "${QGX_MYSQL_PASSWORD}"}
    assert "password" not in ds and "password" not in ds["jsonData"]


def test_correlations_between_datasources(provisioning: dict) -> None:
    ds = by_uid(provisioning)
    (derived,) = ds["qgx-loki"]["jsonData"]["derivedFields"]
    assert derived["datasourceUid"] == "qgx-tempo"
    # Grafana expands $ in provisioning files, so the link variable is escaped as $$.
    assert derived["url"] == "$${__value.raw}"
    import re

    assert re.search(derived["matcherRegex"], '{"traceId":"4bf92f3577b34da6","level":"ERROR"}').group(1) == (
        "4bf92f3577b34da6"
    )
    tempo = ds["qgx-tempo"]["jsonData"]
    assert tempo["tracesToLogsV2"]["datasourceUid"] == "qgx-loki"
    assert tempo["tracesToLogsV2"]["filterByTraceID"] is True
    assert tempo["serviceMap"]["datasourceUid"] == "qgx-mimir"
    exemplar = ds["qgx-mimir"]["jsonData"]["exemplarTraceIdDestinations"][0]
    assert exemplar["datasourceUid"] == "qgx-tempo"


def test_provisioning_escapes_roundtrip_for_the_api(provisioning: dict) -> None:
    loki = by_uid(provisioning)["qgx-loki"]
    sent = expand(loki, {})
    assert sent["jsonData"]["derivedFields"][0]["url"] == "${__value.raw}"
    mysql = by_uid(provisioning)["qgx-mysql"]
    assert placeholders_in(mysql) == {"QGX_MYSQL_PASSWORD"}
    assert expand(mysql, {"QGX_MYSQL_PASSWORD": "pw"})["secureJsonData"]["password"] == "pw"
    with pytest.raises(UsageError, match="QGX_MYSQL_PASSWORD is not set"):
        expand(mysql, {})


def test_sourcemap_points_at_definition_lines(built: Path) -> None:
    import json

    sourcemap = json.loads((built / "sourcemap.json").read_text())
    file, line = sourcemap["datasource:qgx-loki"].split(":")
    assert file == "datasources/loki.py"
    assert "loki(" in (REPO / file).read_text().splitlines()[int(line) - 1]


def test_prod_differs_only_in_urls_and_tenants(tmp_path: Path) -> None:
    build(REPO, "prod", tmp_path / "prod")
    build(REPO, "dev", tmp_path / "dev")
    dev = by_uid(yaml.safe_load((tmp_path / "dev/grafana/datasources.yaml").read_text()))
    prod = by_uid(yaml.safe_load((tmp_path / "prod/grafana/datasources.yaml").read_text()))
    assert dev.keys() == prod.keys()
    assert prod["qgx-loki"]["secureJsonData"]["httpHeaderValue1"] == "qgx-prod"
    assert dev["qgx-tempo"]["jsonData"] == prod["qgx-tempo"]["jsonData"]


def test_ecosystem_variables_override_environments_yaml() -> None:
    env = resolve_environment(
        REPO,
        "dev",
        {
            "GRAFANA_URL": "http://g:3000",
            "GRAFANA_TOKEN": "glsa_s3cr3t",
            "MIMIR_ADDRESS": "http://m:8080",
            "MIMIR_TENANT_ID": "t2",
            "MIMIR_API_USER": "u",
            "MIMIR_API_KEY": "k",
        },
    )
    assert (env.grafana.url, env.grafana.token) == ("http://g:3000", "glsa_s3cr3t")
    assert (env.mimir.address, env.mimir.tenant, env.mimir.user, env.mimir.key) == (
        "http://m:8080",
        "t2",
        "u",
        "k",
    )
    plain = resolve_environment(REPO, "dev", {})
    assert plain.grafana.url == "http://localhost:3000" and plain.grafana.token is None
    assert "glsa_s3cr3t" not in repr(env.grafana) and "'k'" not in repr(env.mimir)


def test_secrets_canary_never_reaches_out_or_output(tmp_path: Path) -> None:
    canary = "CANARY-5f1d0b7e-secret"
    env = resolve_environment(REPO, "dev", {})
    names = env.secret_variables() | {
        "GRAFANA_TOKEN",
        "MIMIR_API_KEY",
        "SLACK_WEBHOOK_URL",
        "GRAFANA_PASSWORD",
    }
    result = run_cli("build", "--out", str(tmp_path / "out"), env={name: canary for name in names})
    assert result.returncode == 0, result.stderr
    assert canary not in result.stdout + result.stderr
    for rel, data in read_tree(tmp_path / "out").items():
        assert canary.encode() not in data, f"secret leaked into {rel}"


def test_build_check_detects_stale_out(tmp_path: Path, project_copy: Path) -> None:
    out = project_copy / "out"
    assert run_cli("--project", str(project_copy), "build").returncode == 0
    assert run_cli("--project", str(project_copy), "build", "--check").returncode == 0
    path = project_copy / "datasources/loki.py"
    path.write_text(path.read_text().replace('name="Loki"', 'name="Loki logs"'))
    result = run_cli("--project", str(project_copy), "build", "--check")
    assert result.returncode == 1
    assert "grafana/datasources.yaml" in result.stdout and "make build" in result.stdout
    assert "Loki logs" not in (out / "grafana/datasources.yaml").read_text()


BAD_DEFINITIONS = [
    # (file, text to write, expected message fragment, expected line)
    (
        "datasources/dup.py",
        'from lgtm_dash.model.datasource import loki\n\ndatasource = loki(uid="qgx-loki", name="Other")\n',
        "duplicate datasource uid 'qgx-loki'",
        3,
    ),
    (
        "datasources/long.py",
        'from lgtm_dash.model.datasource import loki\n\ndatasource = loki(uid="x" * 41, name="Long")\n',
        "max 40",
        3,
    ),
    (
        "datasources/chars.py",
        'from lgtm_dash.model.datasource import loki\n\ndatasource = loki(uid="bad uid!", name="B")\n',
        "characters outside",
        3,
    ),
    (
        "datasources/empty.py",
        '"""Forgot to define the datasource."""\nX = 1\n',
        "module defines no `datasource`",
        1,
    ),
    (
        "datasources/ref.py",
        (
            'from lgtm_dash.model.datasource import loki, trace_id_field\n\ndatasource = loki(\n    uid="l2", name="L2",\n'
            '    derived_fields=[trace_id_field(tempo_uid="nope", label="trace_id")],\n)\n'
        ),
        "unknown datasource 'nope'",
        3,
    ),
    ("datasources/boom.py", "import os\n\nvalue = 1 / 0\n", "ZeroDivisionError", 3),
    ("datasources/syntax.py", "datasource = (\n", "SyntaxError", 1),
]


@pytest.mark.parametrize(
    ("rel", "text", "message", "line"), BAD_DEFINITIONS, ids=[b[0] for b in BAD_DEFINITIONS]
)
def test_bad_definitions_fail_cleanly_and_write_nothing(
    project_copy: Path, rel: str, text: str, message: str, line: int
) -> None:
    assert run_cli("--project", str(project_copy), "build").returncode == 0
    before = read_tree(project_copy / "out")
    (project_copy / rel).write_text(text)
    result = run_cli("--project", str(project_copy), "build")
    assert result.returncode == 2
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and message in err
    assert f"{rel}:{line}" in err or (rel == "datasources/dup.py" and "datasources/dup.py:3" in err), err
    assert read_tree(project_copy / "out") == before


def test_unknown_environment(project_copy: Path) -> None:
    result = run_cli("--project", str(project_copy), "build", "--env", "staging")
    assert result.returncode == 2
    assert "unknown environment 'staging' (known: dev, local, prod)" in result.stderr
    assert "environments.yaml" in result.stderr and "Traceback" not in result.stderr


def test_environment_without_datasource_settings(project_copy: Path) -> None:
    path = project_copy / "environments.yaml"
    lines = [ln for ln in path.read_text().splitlines() if "qgx-thanos" not in ln]
    path.write_text("\n".join(lines) + "\n")
    result = run_cli("--project", str(project_copy), "build")
    assert result.returncode == 2
    assert "no settings for datasource 'qgx-thanos'" in result.stderr
    assert "datasources/thanos.py:" in result.stderr


def test_mimir_url_must_end_with_prometheus(project_copy: Path) -> None:
    path = project_copy / "environments.yaml"
    path.write_text(
        path.read_text().replace("mimir-nginx.monitoring.svc/prometheus", "mimir-nginx.monitoring.svc", 1)
    )
    result = run_cli("--project", str(project_copy), "build")
    assert result.returncode == 2 and "must end with '/prometheus'" in result.stderr
    assert "environments.yaml:" in result.stderr


def test_invalid_environments_yaml_names_the_line(project_copy: Path) -> None:
    (project_copy / "environments.yaml").write_text("environments:\n  dev:\n    grafana: [unclosed\n")
    result = run_cli("--project", str(project_copy), "build")
    assert (
        result.returncode == 2 and "environments.yaml:" in result.stderr and "Traceback" not in result.stderr
    )


def test_same_out_dir_survives_identical_rebuild(tmp_path: Path) -> None:
    build(REPO, "dev", tmp_path / "out")
    (tmp_path / "out/k8s").mkdir()
    (tmp_path / "out/k8s/keep.yaml").write_text("kept")
    snapshot = tmp_path / "snap"
    build(REPO, "dev", snapshot)
    build(REPO, "dev", tmp_path / "out")
    assert (tmp_path / "out/k8s/keep.yaml").read_text() == "kept"  # not ours: left alone
    cmp = filecmp.dircmp(tmp_path / "out/grafana", snapshot / "grafana")
    assert not cmp.diff_files and not cmp.left_only and not cmp.right_only
