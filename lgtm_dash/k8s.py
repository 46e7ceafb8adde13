"""`lgtm-dash configmaps`: out/ -> Kubernetes manifests for Helm-provisioned Grafana, Mimir and Loki.

What it writes (into `--out`, default `<project>/out/k8s`, replaced as a whole; only a new or empty directory
or one carrying the `configmaps` marker `.lgtm-dash` is replaced, see lgtm_dash.outdir):
  kustomization.yaml                         lists every object below, with `namespace:` (`kubectl apply -k`)
  dashboards/grafana-dashboard-<uid>.yaml    one ConfigMap per dashboard, for the Grafana chart's dashboard sidecar
  grafana-datasources.yaml                   ConfigMap for the datasource sidecar: out/grafana/datasources.yaml as is
  mimir-rules-<tenant>.yaml                  ConfigMap: one key per Mimir ruler namespace (Prometheus rule file)
  helm/grafana-values.yaml                   the Grafana chart values that pick the ConfigMaps above up
  helm/mimir-ruler-values.yaml               mimir-distributed values mounting the rules as the ruler's storage
  helm/mimir-alertmanager-fallback-values.yaml   mimir-distributed values: alertmanager.fallbackConfig
  loki-rules-<tenant>.yaml                   ConfigMap: one key per Loki ruler namespace (Prometheus rule file)
  helm/loki-ruler-values.yaml                grafana/loki chart values: the rules as the ruler's local storage, the
                                             Mimir Alertmanager as its alertmanager_url, remote write to Mimir
  templates/<secret>.secret.yaml             a Secret with the `${VAR}` names as keys and empty values (not applied)

Secrets stay `${VAR}` placeholders (Grafana expands them from its environment, filled by the chart's
`envFromSecret`); a literal `$` stays `$$`. Everything is derived from out/, so two runs are byte-identical.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .artifacts import (
    ALERTMANAGER,
    ALERTMANAGER_FALLBACK,
    BUILD_INFO,
    DATASOURCES,
    Artifacts,
    build_hint,
    read_artifacts,
)
from .environments import ENVIRONMENTS_FILE, LokiTarget
from .errors import DefinitionError, UsageError
from .outdir import checked_output_dir, replace_directory
from .secrets import placeholders_in
from .ui import console, err_console
from .yamlio import dump_yaml, load_yaml

COMMAND = "configmaps"  # the owner named in the output directory's marker (lgtm_dash.outdir)
MANAGED_BY = {"app.kubernetes.io/managed-by": "lgtm-dash"}
DEFAULT_NAMESPACE = "monitoring"
DEFAULT_DASHBOARD_LABEL = "grafana_dashboard=1"
DEFAULT_DATASOURCE_LABEL = "grafana_datasource=1"
# k8s-sidecar reads this annotation when the chart's `sidecar.dashboards.folderAnnotation` is unset.
DEFAULT_FOLDER_ANNOTATION = "k8s-sidecar-target-directory"
DEFAULT_SECRET_NAME = "grafana-datasource-credentials"
DASHBOARD_PREFIX = "grafana-dashboard-"
DATASOURCES_NAME = "grafana-datasources"
DATASOURCES_KEY = "datasources.yaml"
RULES_PREFIX = "mimir-rules-"
KUSTOMIZATION = "kustomization.yaml"
GRAFANA_VALUES = "helm/grafana-values.yaml"
MIMIR_FALLBACK_VALUES = "helm/mimir-alertmanager-fallback-values.yaml"
MIMIR_RULER_VALUES = "helm/mimir-ruler-values.yaml"
# Outside /etc/mimir, which the chart already mounts read-only for mimir.yaml.
RULES_MOUNT_DIRECTORY = "/etc/mimir-rules"
LOKI_RULES_PREFIX = "loki-rules-"
LOKI_RULER_VALUES = "helm/loki-ruler-values.yaml"
# Outside /etc/loki (the chart's config) and /etc/loki/rules (its own `ruler.directories`).
LOKI_RULES_MOUNT_DIRECTORY = "/etc/loki-rules"
# The grafana/loki chart runs the ruler in the `ruler` (Distributed), `backend` (SimpleScalable) or `singleBinary`
# pods, each with its own extraVolumes/extraVolumeMounts.
LOKI_RULER_COMPONENTS = ("ruler", "backend", "singleBinary")

# A ConfigMap's data values together may hold at most 1 MiB (apiserver's MaxSecretSize).
MAX_CONFIGMAP_DATA_BYTES = 1024 * 1024
# Client-side `kubectl apply` copies the object into one annotation; annotations total at most 256 KiB.
MAX_CLIENT_SIDE_APPLY_BYTES = 256 * 1024
MAX_NAME_LENGTH = 63

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_CONFIGMAP_KEY = re.compile(r"^[-._A-Za-z0-9]+$")
_BRACED_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Options:
    namespace: str = DEFAULT_NAMESPACE
    dashboard_label: tuple[str, str] = ("grafana_dashboard", "1")
    datasource_label: tuple[str, str] = ("grafana_datasource", "1")
    folder_annotation: str = DEFAULT_FOLDER_ANNOTATION
    secret_name: str = DEFAULT_SECRET_NAME
    kustomization: bool = True


@dataclass(frozen=True)
class Manifest:
    """One output file. `obj` is set for Kubernetes objects (listed in kustomization.yaml)."""

    path: str
    text: str
    obj: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        return f"{self.obj['kind']} {self.obj['metadata']['name']}" if self.obj else self.path


@dataclass(frozen=True)
class Rendering:
    manifests: tuple[Manifest, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def files(self) -> dict[str, str]:
        return {m.path: m.text for m in self.manifests}


# --- names, labels, keys ------------------------------------------------------------------------


def object_name(prefix: str, raw: str) -> str:
    """A deterministic DNS-1123 label (<= 63 chars). A lossy or truncated name gets a hash of `raw`,
    so two different inputs never share a name."""
    slug = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", raw.lower())).strip("-")
    name = f"{prefix}{slug}".strip("-")
    if slug != raw or len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
        name = f"{name[: MAX_NAME_LENGTH - len(digest) - 1].rstrip('-')}-{digest}".lstrip("-")
    return name


def check_qualified_name(key: str, what: str) -> str:
    """A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name <= 63 chars."""
    prefix, _, name = key.rpartition("/")
    if (
        not name
        or len(name) > MAX_NAME_LENGTH
        or not _LABEL_NAME.match(name)
        or (prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)))
        or (not prefix and "/" in key)
    ):
        raise UsageError(f"{what} {key!r} is not a valid Kubernetes label/annotation key")
    return key


def parse_label(text: str, what: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"{what} must be KEY=VALUE, got {text!r}")
    check_qualified_name(key, what)
    if value and (len(value) > MAX_NAME_LENGTH or not _LABEL_NAME.match(value)):
        raise UsageError(f"{what} value {value!r} is not a valid Kubernetes label value")
    return key, value


def check_namespace(namespace: str) -> str:
    if len(namespace) > MAX_NAME_LENGTH or not DNS1123_LABEL.match(namespace):
        raise UsageError(f"namespace {namespace!r} is not a valid DNS-1123 label (a-z, 0-9, '-', <= 63)")
    return namespace


def minified_json(data: Any) -> str:
    # The trailing newline makes the YAML a `|` block: one readable line instead of a folded quoted string.
    return json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n"


def data_size(obj: Mapping[str, Any]) -> int:
    return sum(len(str(v).encode("utf-8")) for v in (obj.get("data") or {}).values())


def config_map(
    name: str,
    namespace: str,
    data: dict[str, str],
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": {**MANAGED_BY, **(labels or {})},
    }
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def object_manifest(path: str, obj: dict[str, Any]) -> Manifest:
    return Manifest(path=path, text=dump_yaml(obj), obj=obj)


# --- dashboards ---------------------------------------------------------------------------------


def folder_directories(arts: Artifacts) -> tuple[dict[str, str], list[str]]:
    """Folder uid -> the sidecar target directory (titles from the root folder down), and warnings.

    With `foldersFromFilesStructure: true` Grafana names the folder after the file's directory, so the
    directory is the folder title. It takes only the last path element: nesting is flattened.
    """
    by_uid = {str(f["uid"]): f for f in arts.folders}
    directories: dict[str, str] = {}
    warnings: list[str] = []
    for uid, folder in by_uid.items():
        titles: list[str] = []
        node: Mapping[str, Any] | None = folder
        while node is not None:
            title = str(node.get("title", ""))
            where = arts.source_of(f"folder:{node['uid']}") or arts.root / "grafana/folders.yaml"
            if "/" in title or title.startswith(".") or not title.strip():
                # The sidecar would write into another directory, or Grafana would skip a dot-directory.
                raise DefinitionError(
                    f"folder title {title!r} cannot be a sidecar directory name "
                    "(no '/', must not start with '.')",
                    where,
                )
            titles.append(title)
            parent = node.get("parentUid")
            node = by_uid.get(str(parent)) if parent else None
            if len(titles) > len(by_uid):
                raise DefinitionError(f"folder {uid!r} is its own ancestor", where)
        directories[uid] = "/".join(reversed(titles))
        if len(titles) > 1:
            warnings.append(
                f"folder {titles[0]!r} is nested under {titles[1]!r}: Grafana's file provisioning creates "
                f"a top-level folder {titles[0]!r} (nesting is lost); publish through the API to keep it"
            )
    last_titles: dict[str, str] = {}
    for uid, directory in sorted(directories.items()):
        last = directory.rsplit("/", 1)[-1]
        if last in last_titles:
            warnings.append(
                f"folders {last_titles[last]!r} and {uid!r} are both titled {last!r}: "
                "file provisioning merges their dashboards into one folder"
            )
        last_titles.setdefault(last, uid)
    return directories, warnings


def dashboard_manifests(arts: Artifacts, options: Options) -> tuple[list[Manifest], list[str]]:
    directories, warnings = folder_directories(arts)
    label_key, label_value = options.dashboard_label
    manifests: list[Manifest] = []
    names: dict[str, str] = {}
    for board in sorted(arts.dashboards, key=lambda d: d.uid):
        where = arts.source_of(f"dashboard:{board.uid}") or board.path
        key = f"{board.uid}.json"
        if not _CONFIGMAP_KEY.match(key) or len(key) > 253:
            raise DefinitionError(f"dashboard uid {board.uid!r} cannot be a ConfigMap key", where)
        content = minified_json(board.data)
        size = len(content.encode("utf-8"))
        if size > MAX_CONFIGMAP_DATA_BYTES:
            raise DefinitionError(
                f"dashboard {board.uid!r} is {size:,} bytes as minified JSON, over the 1 MiB "
                f"({MAX_CONFIGMAP_DATA_BYTES:,} bytes) a ConfigMap can hold: split it, or publish it "
                "through the HTTP API (`lgtm-dash publish`)",
                where,
            )
        name = object_name(DASHBOARD_PREFIX, board.uid)
        if name in names:
            raise DefinitionError(
                f"dashboards {names[name]!r} and {board.uid!r} both map to ConfigMap name {name!r}", where
            )
        names[name] = board.uid
        annotations = {}
        if board.folder_uid in directories:
            annotations[options.folder_annotation] = directories[board.folder_uid]
        elif board.folder_uid != "general":
            raise DefinitionError(
                f"dashboard {board.uid!r} is in folder {board.folder_uid!r}, "
                f"which {arts.root / 'grafana/folders.yaml'} does not define",
                where,
            )
        obj = config_map(
            name, options.namespace, {key: content}, {label_key: label_value}, annotations or None
        )
        manifests.append(object_manifest(f"dashboards/{name}.yaml", obj))
    return manifests, warnings


# --- datasources --------------------------------------------------------------------------------


def datasource_manifests(arts: Artifacts, options: Options) -> tuple[list[Manifest], list[str]]:
    """The provisioning file, byte for byte, plus a Secret template naming the variables it needs."""
    path = arts.root / DATASOURCES
    if not path.is_file():
        return [], []
    text = path.read_text(encoding="utf-8")
    label_key, label_value = options.datasource_label
    obj = config_map(DATASOURCES_NAME, options.namespace, {DATASOURCES_KEY: text}, {label_key: label_value})
    manifests = [object_manifest(f"{DATASOURCES_NAME}.yaml", obj)]
    variables = sorted(placeholders_in(arts.datasources))
    if variables:
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": options.secret_name,
                "namespace": options.namespace,
                "labels": dict(MANAGED_BY),
            },
            "type": "Opaque",
            "stringData": dict.fromkeys(variables, ""),
        }
        header = (
            "# A template, not applied by kustomization.yaml: fill in the values outside git, e.g.\n"
            f"#   kubectl -n {options.namespace} create secret generic {options.secret_name} "
            + " ".join(f"--from-literal={v}=..." for v in variables)
            + "\n# and point the Grafana chart at it with `envFromSecret` (see ../helm/grafana-values.yaml).\n"
        )
        manifests.append(Manifest(f"templates/{options.secret_name}.secret.yaml", header + dump_yaml(secret)))
    return manifests, variables


# --- Mimir --------------------------------------------------------------------------------------


def mimir_manifests(arts: Artifacts, tenant: str, options: Options) -> tuple[list[Manifest], list[str]]:
    manifests: list[Manifest] = []
    warnings: list[str] = []
    if arts.rule_namespaces:
        # Prometheus rule-file format, keyed by the bare namespace: the ruler's local storage reads
        # <directory>/<tenant>/<file> strictly (no `namespace:` key) and takes the file name as the namespace.
        data = {ns: dump_yaml({"groups": groups}) for ns, groups in sorted(arts.rule_namespaces.items())}
        name = object_name(RULES_PREFIX, tenant)
        obj = config_map(name, options.namespace, data)
        manifests.append(object_manifest(f"{name}.yaml", obj))
        manifests.append(mimir_ruler_values(name, tenant))
    fallback = arts.root / ALERTMANAGER_FALLBACK
    if fallback.is_file():
        manifests.append(Manifest(MIMIR_FALLBACK_VALUES, fallback.read_text(encoding="utf-8")))
    elif arts.alertmanager:
        config = arts.alertmanager.get("alertmanager_config")
        parsed = load_yaml_text(config, arts.root / ALERTMANAGER) if config else None
        if parsed:
            manifests.append(
                Manifest(MIMIR_FALLBACK_VALUES, dump_yaml({"alertmanager": {"fallbackConfig": parsed}}))
            )
            if arts.alertmanager.get("template_files"):
                warnings.append(
                    f"{MIMIR_FALLBACK_VALUES} has no notification templates: fallbackConfig cannot carry "
                    "template_files"
                )
    return manifests, warnings


def mimir_ruler_values(config_map_name: str, tenant: str) -> Manifest:
    """mimir-distributed values that mount the rules ConfigMap as the ruler's (read-only) local storage."""
    values = {
        "mimir": {
            "structuredConfig": {
                "ruler_storage": {"backend": "local", "local": {"directory": RULES_MOUNT_DIRECTORY}}
            }
        },
        "ruler": {
            "extraVolumes": [{"name": "lgtm-dash-rules", "configMap": {"name": config_map_name}}],
            "extraVolumeMounts": [
                {
                    "name": "lgtm-dash-rules",
                    "mountPath": f"{RULES_MOUNT_DIRECTORY}/{tenant}",
                    "readOnly": True,
                }
            ],
        },
    }
    return Manifest(MIMIR_RULER_VALUES, dump_yaml(values))


# --- Loki ---------------------------------------------------------------------------------------


def loki_manifests(
    arts: Artifacts, loki: LokiTarget | None, grafana_url: str, env_name: str, options: Options
) -> tuple[list[Manifest], list[str]]:
    """The Loki rules as one ConfigMap for the ruler's local storage of `loki.tenant`, and the chart values
    (nothing without Loki rules, or without the environment's `loki:` section: `run` refuses that case)."""
    if not arts.loki_rule_namespaces or loki is None:
        return [], []
    # Same layout as Mimir's local storage: <directory>/<tenant>/<namespace>, each a strict rule file.
    data = {ns: dump_yaml({"groups": groups}) for ns, groups in sorted(arts.loki_rule_namespaces.items())}
    name = object_name(LOKI_RULES_PREFIX, loki.tenant)
    warnings: list[str] = []
    ruler: dict[str, Any] = {"storage": {"type": "local", "local": {"directory": LOKI_RULES_MOUNT_DIRECTORY}}}
    if loki.alertmanager_url:
        ruler["alertmanager_url"] = loki.alertmanager_url
    else:
        warnings.append(f"environments.{env_name}.loki.alertmanager_url is not set: Loki alerts go nowhere")
    # Alert links (generatorURL) open Grafana Explore on the Loki datasource, as Loki's SendAlerts builds them.
    ruler["external_url"] = grafana_url
    loki_datasources = [
        str(ds["uid"]) for ds in arts.datasources if ds.get("type") == "loki" and ds.get("uid")
    ]
    if len(loki_datasources) == 1:
        ruler["datasource_uid"] = loki_datasources[0]
    if loki.remote_write_url:
        ruler["remote_write"] = {"enabled": True, "clients": {"mimir": {"url": loki.remote_write_url}}}
    else:
        warnings.append(
            f"environments.{env_name}.loki.remote_write_url is not set: Loki recording rules reach no Mimir"
        )
    volume = {"name": "lgtm-dash-loki-rules", "configMap": {"name": name}}
    mount = {
        "name": volume["name"],
        "mountPath": f"{LOKI_RULES_MOUNT_DIRECTORY}/{loki.tenant}",
        "readOnly": True,
    }
    values: dict[str, Any] = {"loki": {"rulerConfig": ruler}}
    for component in LOKI_RULER_COMPONENTS:  # copies: shared objects would become YAML anchors
        values[component] = {"extraVolumes": [copy.deepcopy(volume)], "extraVolumeMounts": [dict(mount)]}
    manifests = [
        object_manifest(f"{name}.yaml", config_map(name, options.namespace, data)),
        Manifest(LOKI_RULER_VALUES, dump_yaml(values)),
    ]
    return manifests, warnings


def load_yaml_text(text: str, where: Path) -> Any:
    import yaml

    try:
        return load_yaml(text)
    except yaml.YAMLError as err:
        raise DefinitionError(f"alertmanager_config is not valid YAML: {err}", where) from None


# --- Helm values and kustomization --------------------------------------------------------------


def grafana_values(options: Options, variables: list[str]) -> Manifest:
    """The Grafana chart values under which the sidecars pick these ConfigMaps up as they are."""
    dash_key, dash_value = options.dashboard_label
    ds_key, ds_value = options.datasource_label
    values: dict[str, Any] = {
        "sidecar": {
            "dashboards": {
                "enabled": True,
                "label": dash_key,
                "labelValue": dash_value,
                "folderAnnotation": options.folder_annotation,
                # The folder annotation names a directory; this makes each directory a Grafana folder.
                "provider": {"foldersFromFilesStructure": True},
            },
            "datasources": {"enabled": True, "label": ds_key, "labelValue": ds_value},
        }
    }
    if variables:
        values["envFromSecret"] = options.secret_name
    return Manifest(GRAFANA_VALUES, dump_yaml(values))


def kustomization(manifests: list[Manifest], namespace: str) -> Manifest:
    resources = sorted(m.path for m in manifests if m.obj is not None)
    body = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": namespace,
        "resources": resources,
    }
    return Manifest(KUSTOMIZATION, dump_yaml(body))


def render(
    arts: Artifacts,
    tenant: str,
    options: Options,
    *,
    loki: LokiTarget | None = None,
    grafana_url: str = "",
    env_name: str = "",
) -> Rendering:
    """Every output file; raises DefinitionError (nothing written) when an object cannot be a ConfigMap."""
    dashboards, warnings = dashboard_manifests(arts, options)
    datasources, variables = datasource_manifests(arts, options)
    mimir, mimir_warnings = mimir_manifests(arts, tenant, options)
    loki_files, loki_warnings = loki_manifests(arts, loki, grafana_url, env_name or str(arts.env), options)
    manifests = [*dashboards, *datasources, *mimir, *loki_files, grafana_values(options, variables)]
    warnings += mimir_warnings + loki_warnings
    for manifest in manifests:
        if manifest.obj is None:
            continue
        if manifest.obj["kind"] == "ConfigMap" and data_size(manifest.obj) > MAX_CONFIGMAP_DATA_BYTES:
            raise DefinitionError(
                f"{manifest.title} would hold {data_size(manifest.obj):,} bytes of data, over the 1 MiB "
                f"({MAX_CONFIGMAP_DATA_BYTES:,} bytes) a ConfigMap can hold",
                manifest.path,
            )
        size = len(manifest.text.encode("utf-8"))
        if size > MAX_CLIENT_SIDE_APPLY_BYTES:
            warnings.append(
                f"{manifest.title} is {size:,} bytes: client-side `kubectl apply` will reject it (its "
                "last-applied-configuration annotation may hold at most 262,144 bytes); "
                "use `kubectl apply --server-side` or Helm"
            )
    if options.kustomization:
        manifests.append(kustomization(manifests, options.namespace))
    return Rendering(tuple(manifests), tuple(warnings))


def check_no_secret_values(
    files: Mapping[str, str], secret_names: set[str], environ: Mapping[str, str]
) -> None:
    """Refuse to write a manifest that contains the value of a secret variable set in this environment."""
    for name in sorted(secret_names):
        value = environ.get(name, "")
        if len(value) < 4:  # too short to tell apart from ordinary text
            continue
        for path, text in sorted(files.items()):
            if value in text:
                raise DefinitionError(
                    f"manifest {path} would contain the value of the secret variable {name}; secrets must "
                    f"stay `${{{name}}}` placeholders (nothing written)"
                )


# --- writing ------------------------------------------------------------------------------------


def check_replaceable(out: Path, artifacts_dir: Path, project: Path) -> Path:
    """The output directory, replaced as a whole: refuse anything that is not ours (see lgtm_dash.outdir)."""
    out_dir = checked_output_dir(out, command=COMMAND, project_root=project)
    if out_dir == artifacts_dir or out_dir in artifacts_dir.parents:
        raise UsageError(f"--out {out} would replace the artifacts in {artifacts_dir}")
    return out_dir


# --- command line -------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env", default=None, help="environment the artifacts must be built for (default: the one they were)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory, replaced as a whole (default: <project>/out/k8s)",
    )
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=None,
        help="the built out/ to read (default: the parent of --out when it holds build.json, else <project>/out)",
    )
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="Kubernetes namespace of every object")
    parser.add_argument(
        "--dashboard-label",
        default=DEFAULT_DASHBOARD_LABEL,
        metavar="KEY=VALUE",
        help="label the dashboard sidecar selects (chart: sidecar.dashboards.label/labelValue)",
    )
    parser.add_argument(
        "--datasource-label",
        default=DEFAULT_DATASOURCE_LABEL,
        metavar="KEY=VALUE",
        help="label the datasource sidecar selects (chart: sidecar.datasources.label/labelValue)",
    )
    parser.add_argument(
        "--folder-annotation",
        default=DEFAULT_FOLDER_ANNOTATION,
        metavar="KEY",
        help="annotation naming the dashboard's folder directory, e.g. grafana_folder "
        "(chart: sidecar.dashboards.folderAnnotation)",
    )
    parser.add_argument(
        "--secret-name",
        default=DEFAULT_SECRET_NAME,
        help="Secret holding the datasources' ${VAR} values (chart: envFromSecret)",
    )
    parser.add_argument(
        "--kustomization",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write kustomization.yaml listing the objects (default: on)",
    )


def default_artifacts_dir(out_dir: Path, project: Path) -> Path:
    return out_dir.parent if (out_dir.parent / BUILD_INFO).is_file() else project / "out"


def run(args: argparse.Namespace) -> int:
    from .environments import resolve_environment

    out = args.out or args.project / "out" / "k8s"
    artifacts_dir = (args.artifacts or default_artifacts_dir(out, args.project)).resolve()
    options = Options(
        namespace=check_namespace(args.namespace),
        dashboard_label=parse_label(args.dashboard_label, "--dashboard-label"),
        datasource_label=parse_label(args.datasource_label, "--datasource-label"),
        folder_annotation=check_qualified_name(args.folder_annotation, "--folder-annotation"),
        secret_name=object_name("", args.secret_name),
        kustomization=args.kustomization,
    )
    if options.secret_name != args.secret_name:
        raise UsageError(f"--secret-name {args.secret_name!r} is not a valid DNS-1123 name")
    out_dir = check_replaceable(out, artifacts_dir, args.project)

    arts = read_artifacts(artifacts_dir)
    if arts.env is None:
        raise DefinitionError(f"{artifacts_dir} has no {BUILD_INFO}: run `lgtm-dash build` first")
    if args.env and args.env != arts.env:
        raise UsageError(
            f"{artifacts_dir} was built for environment {arts.env!r}, not {args.env!r}: "
            f"run `{build_hint(args.env)}` and pass that directory as --artifacts "
            f"(or `make configmaps ENV={args.env}`)"
        )
    env = resolve_environment(args.project, arts.env, environ={})  # like build: never the process's secrets
    if arts.loki_rule_namespaces and env.loki is None:
        raise DefinitionError(
            f"{artifacts_dir} holds Loki rules, but environment {env.name!r} has no `loki:` section (tenant, "
            f"alertmanager_url, remote_write_url): add environments.{env.name}.loki to {ENVIRONMENTS_FILE}",
            env.location,
        )
    rendering = render(
        arts, env.mimir.tenant, options, loki=env.loki, grafana_url=env.grafana.url, env_name=env.name
    )
    files = rendering.files
    secret_names = env.secret_variables() | {
        name for text in files.values() for name in _BRACED_VARIABLE.findall(text)
    }
    check_no_secret_values(files, secret_names, os.environ)
    replace_directory(files, out_dir, command=COMMAND)

    for warning in rendering.warnings:
        err_console.print(f"warning: {warning}", markup=False)
    objects = [m for m in rendering.manifests if m.obj is not None]
    dashboards = sum(1 for m in objects if m.path.startswith("dashboards/"))
    how = "; apply with `kubectl apply -k`" if options.kustomization else ""
    console.print(
        f"wrote {len(objects)} objects ({dashboards} dashboards) for environment {arts.env!r} "
        f"into {out_dir} (namespace {options.namespace}){how}",
        markup=False,
    )
    return 0
