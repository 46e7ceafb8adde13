"""Safety under accident and attack (issue 13, parts 3 and 4): output directories, torn out/ trees, uids
that would become paths, and hostile YAML/JSON. Every case runs the command line as a user would."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lgtm_dash.artifacts import BUILD_OUTPUTS, parse_json, read_artifacts
from lgtm_dash.compile import build
from lgtm_dash.errors import DefinitionError, RemoteError
from lgtm_dash.limits import MAX_NESTING
from lgtm_dash.outdir import KILL_AT_VARIABLE, MARKER
from lgtm_dash.urlpath import safe_path_segment
from tests.helpers import LGTM, REPO, run_cli

# A hostile input must be refused well within these: a regression shows as a MemoryError or a timeout.
MEMORY_LIMIT_BYTES = 2 * 1024**3
TIME_LIMIT_SECONDS = 60

# Ten levels of nine aliases each: 474 bytes that expand to 9**10 (3.5 billion) strings.
ALIAS_BOMB = "\n".join(
    ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    + ["groups: [*a9]", ""]
)
DEEP_JSON = "[" * 200_000 + "]" * 200_000


def bounded_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """`lgtm-dash` under a memory limit and a time limit, as a hostile input must be handled."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))

    env = {k: v for k, v in os.environ.items() if k != "LGTM_DASH_DEBUG"}
    return subprocess.run(
        [*LGTM, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_SECONDS,
        preexec_fn=limit_memory,
    )


def assert_bad_input(result: subprocess.CompletedProcess[str], *named: str) -> None:
    """Exit 2 with one line naming what is wrong, no traceback."""
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for text in named:
        assert text in result.stderr


def tree(root: Path) -> dict[str, bytes]:
    """The files `build` owns in an out/ tree."""
    files: dict[str, bytes] = {}
    for entry in BUILD_OUTPUTS:
        path = root / entry
        for p in [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []:
            if p.is_file():
                files[p.relative_to(root).as_posix()] = p.read_bytes()
    return files


def staging_left(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".build-" in p.name)


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    """What a complete build of each environment holds."""
    root = tmp_path_factory.mktemp("references")
    result = {}
    for env in ("dev", "prod"):
        build(REPO, env, root / env)
        result[env] = tree(root / env)
    assert result["dev"] != result["prod"]
    return result


@pytest.fixture
def built(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    build(REPO, "dev", out)
    return out


# --- output directories -------------------------------------------------------------------------


def test_build_refuses_a_directory_it_did_not_write(tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    (foreign / "grafana").mkdir(parents=True)
    (foreign / "grafana" / "notes.txt").write_text("keep me")
    result = run_cli("build", "--out", str(foreign))
    assert_bad_input(result, str(foreign), MARKER)
    assert (foreign / "grafana" / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in foreign.iterdir()) == ["grafana"]
    assert staging_left(tmp_path) == []


def test_build_refuses_root_home_and_project_root(tmp_path: Path, project_copy: Path) -> None:
    assert_bad_input(run_cli("build", "--out", "/"), "filesystem root")
    home = tmp_path / "home"
    home.mkdir()
    result = run_cli("build", "--out", str(home), env={"HOME": str(home)})
    assert_bad_input(result, "home directory")
    assert list(home.iterdir()) == []  # even an empty home is never made an output
    result = run_cli("--project", str(project_copy), "build", "--out", ".", cwd=project_copy)
    assert_bad_input(result, "project root")
    assert not (project_copy / "build.json").exists() and not (project_copy / MARKER).exists()


def test_build_never_writes_through_a_symlinked_output_directory(tmp_path: Path) -> None:
    for content in ({}, {"notes.txt": "keep me"}):
        target = tmp_path / f"target-{len(content)}"
        target.mkdir()
        for name, text in content.items():
            (target / name).write_text(text)
        link = tmp_path / f"link-{len(content)}"
        link.symlink_to(target, target_is_directory=True)
        assert_bad_input(run_cli("build", "--out", str(link)), "symbolic link")
        assert {p.name: p.read_text() for p in target.iterdir()} == content
        assert link.is_symlink()


def test_an_output_directory_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("keep me")
    for command in ("build", "configmaps"):
        assert_bad_input(run_cli(command, "--out", str(in_the_way / "out")), "cannot write")
    assert in_the_way.read_text() == "keep me"


def test_a_symlink_inside_out_is_replaced_never_followed(built: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.json").write_text("{}")
    shutil.rmtree(built / "grafana")
    (built / "grafana").symlink_to(elsewhere, target_is_directory=True)
    build(REPO, "dev", built)
    assert [p.name for p in elsewhere.iterdir()] == ["keep.json"]
    assert (built / "grafana").is_dir() and not (built / "grafana").is_symlink()


def test_build_output_carries_the_marker_and_is_rebuilt_in_place(
    built: Path, references: dict[str, dict[str, bytes]]
) -> None:
    assert (built / MARKER).read_text().startswith("lgtm-dash build:")
    (built / "k8s").mkdir()
    (built / "k8s" / "keep.yaml").write_text("kept")
    result = run_cli("build", "--env", "prod", "--out", str(built))
    assert result.returncode == 0, result.stderr
    assert tree(built) == references["prod"]
    assert (built / "k8s" / "keep.yaml").read_text() == "kept"  # not the build's: left alone


def test_the_committed_out_of_an_older_version_is_adopted(built: Path) -> None:
    (built / MARKER).unlink()  # as written before output directories carried a marker
    assert run_cli("build", "--out", str(built)).returncode == 0
    assert (built / MARKER).is_file()


def test_build_and_configmaps_never_take_each_others_directories(built: Path) -> None:
    k8s = built / "k8s"
    assert run_cli("configmaps", "--artifacts", str(built), "--out", str(k8s)).returncode == 0
    assert_bad_input(run_cli("build", "--out", str(k8s)), "configmaps")
    assert (k8s / "kustomization.yaml").is_file() and not (k8s / "build.json").exists()


def test_configmaps_never_wipes_a_symlinked_directory_of_the_users_yaml(built: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my-manifests"
    mine.mkdir()
    (mine / "deployment.yaml").write_text("kind: Deployment\n")
    link = tmp_path / "k8s-link"
    link.symlink_to(mine, target_is_directory=True)
    result = run_cli("configmaps", "--artifacts", str(built), "--out", str(link))
    assert_bad_input(result, "symbolic link")
    result = run_cli("configmaps", "--artifacts", str(built), "--out", str(mine))
    assert_bad_input(result, MARKER)
    assert [p.name for p in mine.iterdir()] == ["deployment.yaml"]
    assert_bad_input(run_cli("configmaps", "--artifacts", str(built), "--out", "/"), "filesystem root")


def test_configmaps_replaces_its_own_output(built: Path) -> None:
    k8s = built / "k8s"
    for _ in range(2):
        result = run_cli("configmaps", "--artifacts", str(built), "--out", str(k8s))
        assert result.returncode == 0, result.stderr
    assert (k8s / MARKER).read_text().startswith("lgtm-dash configmaps:")
    assert staging_left(built) == []


# --- a build killed while it swaps out/ in --------------------------------------------------------

SWAP_STEPS = [
    "staged",
    "marked",
    "uncommitted",
    "swapped-sourcemap.json",
    "swapped-grafana",
    "swapped-mimir",
    "committed",
]
TORN_STEPS = {"uncommitted", "swapped-sourcemap.json", "swapped-grafana", "swapped-mimir"}


@pytest.mark.parametrize("step", SWAP_STEPS)
def test_a_build_killed_mid_swap_never_leaves_a_mixed_tree(
    step: str, built: Path, references: dict[str, dict[str, bytes]]
) -> None:
    killed = run_cli("build", "--env", "prod", "--out", str(built), env={KILL_AT_VARIABLE: step})
    assert killed.returncode == -9, killed.stderr

    # Every reader sees one whole build, or refuses the tree.
    if step in TORN_STEPS:
        with pytest.raises(DefinitionError, match="interrupted"):
            read_artifacts(built)
        assert_bad_input(run_cli("lint", str(built)), "interrupted")
        assert_bad_input(run_cli("diff", str(built), str(built)), "interrupted")
        k8s = built.parent / "k8s"
        assert_bad_input(run_cli("configmaps", "--artifacts", str(built), "--out", str(k8s)), "interrupted")
        assert not k8s.exists()
        result = run_cli("plan", "--env", "prod", "--out", str(built), env={"GRAFANA_TOKEN": "t"})
        assert_bad_input(result, "interrupted")
    else:
        expected = "dev" if step in ("staged", "marked") else "prod"
        assert tree(built) == references[expected]
        assert read_artifacts(built).env == expected
    assert staging_left(built.parent)  # what the killed run left...

    result = run_cli("build", "--env", "dev", "--out", str(built))
    assert result.returncode == 0, result.stderr
    assert tree(built) == references["dev"]
    assert staging_left(built.parent) == []  # ...the next run removed


# --- uids and names that become paths and URLs ---------------------------------------------------


def test_an_uid_changed_after_the_board_was_built_cannot_escape_out(
    project_copy: Path, tmp_path: Path
) -> None:
    module = project_copy / "dashboards" / "zz_escape.py"
    module.write_text(
        "from dashboards.backend_logs import dashboard as original\n"
        "import copy\n"
        "dashboard = copy.deepcopy(original)\n"
        'dashboard.dashboard.uid = "../../../escaped"\n'
    )
    out = tmp_path / "out"
    result = run_cli("--project", str(project_copy), "build", "--out", str(out), cwd=project_copy)
    assert_bad_input(result, "'../../../escaped'")
    assert not out.exists()
    assert not any(p.name.startswith("escaped") for p in tmp_path.rglob("*"))


def test_names_in_out_that_would_become_paths_are_refused(built: Path) -> None:
    cases = []
    dashboard = next((built / "grafana" / "dashboards").glob("*/*.json"))
    data = json.loads(dashboard.read_text())
    cases.append((dashboard, json.dumps({**data, "uid": "../../api/admin"}), dashboard.name))
    folders = built / "grafana" / "folders.yaml"
    folder_data = yaml.safe_load(folders.read_text())
    folder_data["folders"][0]["uid"] = "a/../../b"
    cases.append((folders, yaml.safe_dump(folder_data), "folders.yaml"))
    rules = next((built / "mimir" / "rules").glob("*.yaml"))
    rule_data = yaml.safe_load(rules.read_text())
    cases.append((rules, yaml.safe_dump({**rule_data, "namespace": ".."}), rules.name))
    for path, text, named in cases:
        original = path.read_text()
        path.write_text(text)
        assert_bad_input(run_cli("lint", str(built)), named)
        assert_bad_input(run_cli("configmaps", "--artifacts", str(built), "--out", str(built / "k8s")), named)
        path.write_text(original)
    assert run_cli("lint", str(built)).returncode in (0, 1)


def test_safe_path_segment_never_lets_a_name_address_another_object() -> None:
    assert safe_path_segment("team/a b", "rule namespace") == "team%2Fa%20b"
    for bad in ("", ".", "..", None):
        with pytest.raises(DefinitionError):
            safe_path_segment(bad, "rule group")
    assert safe_path_segment("qgx-backend_1", "dashboard", uid=True) == "qgx-backend_1"
    for bad in ("a/b", "..", "x" * 41, "é"):
        with pytest.raises(RemoteError):
            safe_path_segment(bad, "dashboard", uid=True, error=RemoteError)


# --- unbounded inputs ----------------------------------------------------------------------------


def test_an_alias_bomb_in_environments_yaml_is_bad_input(project_copy: Path, tmp_path: Path) -> None:
    (project_copy / "environments.yaml").write_text(ALIAS_BOMB.replace("groups:", "environments:"))
    result = bounded_cli("--project", str(project_copy), "build", "--out", str(tmp_path / "out"))
    assert_bad_input(result, "environments.yaml", "alias")
    assert not (tmp_path / "out").exists()


def test_an_alias_bomb_in_a_rule_file_or_the_catalog_is_bad_input(tmp_path: Path, built: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    assert_bad_input(bounded_cli("lint", str(bomb)), "bomb.yaml", "alias")
    assert_bad_input(bounded_cli("lint", str(built), "--catalog", str(bomb)), "bomb.yaml", "alias")
    rules = next((built / "mimir" / "rules").glob("*.yaml"))
    rules.write_text(ALIAS_BOMB)
    assert_bad_input(bounded_cli("lint", str(built)), rules.name, "alias")
    assert_bad_input(bounded_cli("diff", str(built), str(built)), rules.name, "alias")
    result = bounded_cli("configmaps", "--artifacts", str(built), "--out", str(tmp_path / "k8s"))
    assert_bad_input(result, rules.name, "alias")


def test_aliases_within_reason_still_work(tmp_path: Path) -> None:
    rules = tmp_path / "anchors.yaml"
    rules.write_text(
        "groups:\n  - name: g\n    rules:\n"
        + "".join(
            f"      - alert: A{i}\n        expr: up == 0\n        labels: &l{i} {{severity: page}}\n"
            f"        annotations: {{summary: s}}\n      - alert: B{i}\n        expr: up == 1\n"
            f"        labels: *l{i}\n        annotations: {{summary: s}}\n"
            for i in range(50)
        )
    )
    result = run_cli("lint", str(rules))
    assert result.returncode in (0, 1) and result.stderr == "", result.stderr
    assert "alert 'B49'" in result.stdout  # read, with its labels from the anchor


@pytest.mark.parametrize("depth", [200_000, 1_000])
def test_json_nested_too_deep_is_bad_input(depth: int, tmp_path: Path, built: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"panels": ' + "[" * depth + "]" * depth + "}")
    assert_bad_input(bounded_cli("lint", str(deep)), "deep.json", "nested")
    dashboard = next((built / "grafana" / "dashboards").glob("*/*.json"))
    shutil.copy(deep, dashboard)
    assert_bad_input(bounded_cli("lint", str(built)), dashboard.name, "nested")
    result = bounded_cli("configmaps", "--artifacts", str(built), "--out", str(tmp_path / "k8s"))
    assert_bad_input(result, dashboard.name, "nested")


def _nested_json(depth: int, shape: str) -> str:
    """`depth` containers one inside the other; the innermost holds a 70-bit integer for "big-integer"."""
    inner = "[1180591620717411303424]" if shape == "big-integer" else "[]"
    text = inner
    for level in range(depth - 1):
        as_object = shape == "objects" or (shape == "mixed" and level % 2)
        text = f'{{"k": {text}}}' if as_object else f"[{text}]"
    return text


@pytest.mark.parametrize("shape", ["lists", "objects", "mixed", "big-integer"])
def test_the_json_nesting_limit_is_exactly_the_limit(shape: str) -> None:
    assert parse_json(_nested_json(MAX_NESTING, shape), "at-limit.json") is not None
    with pytest.raises(
        DefinitionError, match=f"at-limit.json: invalid JSON: nested deeper than {MAX_NESTING}"
    ):
        parse_json(_nested_json(MAX_NESTING + 1, shape), "at-limit.json")


def test_yaml_nested_too_deep_is_bad_input(tmp_path: Path, project_copy: Path) -> None:
    for depth in (200_000, 500):
        deep = tmp_path / f"deep-{depth}.yaml"
        deep.write_text("groups: " + "[" * depth + "]" * depth + "\n")
        assert_bad_input(bounded_cli("lint", str(deep)), deep.name)
        (project_copy / "environments.yaml").write_text("environments: " + "[" * depth + "]" * depth + "\n")
        result = bounded_cli("--project", str(project_copy), "build", "--out", str(tmp_path / "out"))
        assert_bad_input(result, "environments.yaml")


# Files of out/ with the right syntax and the wrong shape: bad input for every reader, never exit 70.
WRONG_SHAPES = {
    "build.json": "[1, 2]",
    "sourcemap.json": '{"dashboard:x": 3}',
    "grafana/datasources.yaml": "datasources: [just-a-name]\n",
    "grafana/folders.yaml": "folders: {uid: x}\n",
    "mimir/alertmanager.yaml": "- a list\n",
}


@pytest.mark.parametrize("rel", sorted(WRONG_SHAPES))
def test_out_files_of_the_wrong_shape_are_bad_input(rel: str, built: Path) -> None:
    (built / rel).write_text(WRONG_SHAPES[rel])
    name = Path(rel).name
    assert_bad_input(run_cli("lint", str(built)), name)
    assert_bad_input(run_cli("diff", str(built), str(built)), name)
    assert_bad_input(run_cli("configmaps", "--artifacts", str(built), "--out", str(built / "k8s")), name)
