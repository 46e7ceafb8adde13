"""`lgtm-dash diff --live`: out/ against what the Grafana, Mimir and Loki emulators hold, normalised like `plan`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lgtm_dash.cli import main
from lgtm_dash.compile import build
from lgtm_dash.testing import GrafanaEmulator, LokiEmulator, MimirEmulator
from tests.helpers import REPO, point_at_emulators

TOKEN = "glsa_diff-live-token-0001"
SECRETS = {
    "QGX_MYSQL_PASSWORD": "mysql-canary-51f0",
    "SLACK_WEBHOOK_URL": "https://hooks.example/slack-canary-51f0",
}


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A fresh out/ published to emulators; yields that out/."""
    out = tmp_path / "out"
    build(REPO, "dev", out)
    with GrafanaEmulator(tokens={TOKEN}) as grafana, MimirEmulator() as mimir, LokiEmulator() as loki:
        point_at_emulators(monkeypatch, grafana.url, mimir.url, TOKEN)
        for name in ("LOKI_TENANT_ID", "LOKI_API_USER", "LOKI_API_KEY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("LOKI_ADDRESS", loki.url)
        for name, value in SECRETS.items():
            monkeypatch.setenv(name, value)
        assert cli("publish", "--env", "dev", "--out", str(out), "--retry-delay", "0") == 0
        yield out


def cli(*args: str) -> int:
    return main(["--project", str(REPO), *args])


def live_diff(out: Path, tmp_path: Path) -> tuple[int, dict]:
    report = tmp_path / "diff.json"
    code = cli(
        "diff", "--live", "--env", "dev", "--out", str(out), "--format", "json", "--output", str(report)
    )
    return code, json.loads(report.read_text())


def test_freshly_published_instance_has_no_changes(live: Path, tmp_path: Path) -> None:
    code, report = live_diff(live, tmp_path)
    assert (code, report["changes"]) == (0, [])


def test_edited_out_shows_what_publish_would_change(live: Path, tmp_path: Path) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(live, edited)
    path = sorted(edited.glob("grafana/dashboards/*/*.json"))[0]
    data = json.loads(path.read_text())
    old_title, data["title"] = data["title"], "Retitled, not yet published"
    path.write_text(json.dumps(data))
    (edited / "grafana/datasources.yaml").write_text(
        (edited / "grafana/datasources.yaml").read_text().replace("maxLines: 1000", "maxLines: 2000")
    )
    code, report = live_diff(edited, tmp_path)
    assert code == 1
    by_kind = {c["kind"]: c for c in report["changes"]}
    assert set(by_kind) == {"dashboard", "datasource"}
    (renamed,) = by_kind["dashboard"]["details"]
    assert (renamed["change"], renamed["old"], renamed["new"]) == ("renamed", old_title, data["title"])
    assert by_kind["dashboard"]["source"].startswith("dashboards/")  # still points at the Python
    (max_lines,) = by_kind["datasource"]["details"]
    assert (max_lines["field"], max_lines["old"], max_lines["new"]) == ("jsonData.maxLines", "1000", "2000")
    text = json.dumps(report)
    assert not any(secret in text for secret in SECRETS.values())


def test_out_built_for_another_environment_is_refused(live: Path, tmp_path: Path, capsys) -> None:
    code = cli("diff", "--live", "--env", "prod", "--out", str(live))
    assert code == 2 and "was built for environment 'dev', not 'prod'" in capsys.readouterr().err


def test_a_loki_rule_edited_in_out_is_a_loki_rule_change(live: Path, tmp_path: Path) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(live, edited)
    path = sorted(edited.glob("loki/rules/*.yaml"))[0]
    path.write_text(path.read_text().replace("[5m]", "[10m]", 1))
    code, report = live_diff(edited, tmp_path)
    assert code == 1
    (change,) = report["changes"]
    assert change["kind"] == "Loki rule namespace" and change["key"] == path.stem
    assert change["source"].startswith("alerts/")
