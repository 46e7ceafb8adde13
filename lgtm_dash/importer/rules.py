"""Rule files → one alerts/ module per ruler namespace, whose build gives back every group and rule exactly.

Accepted: plain Prometheus rule files (`groups:`), mimirtool files (`namespace:` + `groups:`), Kubernetes
`PrometheusRule` resources (their `spec`), several YAML documents in one file, and Mimir's answer to
`GET /api/v1/rules` (live import). A file is read the way Prometheus' rulefmt reads it (strings are the YAML
text as written: `yes` stays "yes", `1` as an expression is "1"); what rulefmt refuses (an unknown field, a
rule both or neither alert and record, `for` on a recording rule, a repeated group) is reported with its
`file:line` and that file is skipped. Expressions are kept as written: `lgtm-dash lint` checks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..artifacts import NAMESPACE_PATTERN
from ..model.rules import Alert, Record, RuleGroup, RuleNamespace
from ..source import display_path
from ..yamlio import load_documents
from .dashboards import ImportFailure
from .project import python_name
from .pysource import Call, Name, evaluate, render

GROUP_FIELDS = {
    "name", "interval", "query_offset", "limit", "rules", "labels",
    # Mimir's ruler
    "source_tenants", "evaluation_delay", "align_evaluation_time_on_interval",
}  # fmt: skip
RULE_FIELDS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class NamespaceSource:
    """The groups of one ruler namespace, as Prometheus reads them, and where they came from."""

    name: str
    origin: str
    groups: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class GeneratedNamespace:
    name: str
    module: str
    source: str
    expected: list[dict[str, Any]]  # the groups its build must give
    notes: list[str] = field(default_factory=list)


class _Reader:
    """YAML nodes → plain values the way rulefmt decodes them, with the line of every error."""

    def __init__(self, shown: str):
        self.shown = shown

    def fail(self, node: yaml.Node, message: str) -> ImportFailure:
        return ImportFailure(message, f"{self.shown}:{node.start_mark.line + 1}")

    def mapping(self, node: yaml.Node, what: str) -> dict[str, yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        result: dict[str, yaml.Node] = {}
        merged: dict[str, yaml.Node] = {}
        for key, value in node.value:
            if key.tag.endswith(":merge") or key.value == "<<":  # `<<: *anchor`: keys given here win
                for source in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                    for name, item in self.mapping(source, what).items():
                        merged.setdefault(name, item)
                continue
            if str(key.value) in result:
                raise self.fail(key, f"{what}: the key {key.value!r} appears twice")
            result[str(key.value)] = value
        return {**merged, **result}

    def fields(self, node: yaml.Node, what: str, allowed: set[str]) -> dict[str, yaml.Node]:
        """A group's or rule's fields; one rulefmt does not know is an error, as in Prometheus."""
        fields = self.mapping(node, f"a {what}")
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise self.fail(fields[unknown[0]], f"unknown {what} field {unknown[0]!r}")
        return fields

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node: yaml.Node, what: str) -> str | None:
        """A string field: the scalar as written (what Go's YAML decoder puts in a string); null is absent."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a string")
        if node.tag.endswith(":null"):
            return None
        return str(node.value)

    def strings(self, node: yaml.Node, what: str) -> dict[str, str]:
        values = {}
        for key, value in self.mapping(node, what).items():
            text = self.text(value, f"{what} {key!r}")
            values[key] = text if text is not None else ""
        return values


def read_rule_file(path: Path) -> list[NamespaceSource]:
    """The namespaces a rule file defines (one per `namespace:`, else the file name); an error if bad."""
    shown = display_path(path)
    documents = [node for node, _ in load_documents(path, shown, construct=False)]
    return read_rule_documents(documents, path.stem, shown, path.name)


def read_rule_documents(
    documents: list[Any], default_name: str, shown: str, origin: str | None = None
) -> list[NamespaceSource]:
    """`shown` names the input in errors (`file:line`), `origin` in the generated module's docstring."""
    reader = _Reader(shown)
    namespaces: dict[str, NamespaceSource] = {}
    found = False
    for node in documents:
        if node is None:
            continue
        top = reader.mapping(node, "a rule file")
        if "kind" in top:
            kind = reader.text(top["kind"], "kind")
            if kind != "PrometheusRule":
                continue  # another Kubernetes resource in the same file
            metadata = reader.mapping(top["metadata"], "metadata") if "metadata" in top else {}
            name = reader.text(metadata["name"], "metadata.name") if "name" in metadata else None
            if "spec" not in top:
                raise reader.fail(node, "a PrometheusRule needs a spec")
            node, top = top["spec"], reader.mapping(top["spec"], "spec")
            name = name or default_name
        else:
            name = reader.text(top["namespace"], "namespace") if "namespace" in top else default_name
        if "groups" not in top and ("rule_files" in top or "tests" in top):
            raise reader.fail(node, "a promtool unit-test file (rule_files, tests), not a rule file")
        unknown = sorted(set(top) - {"groups", "namespace"})
        if unknown:
            raise reader.fail(top[unknown[0]], f"unknown field {unknown[0]!r} (a rule file holds `groups:`)")
        if "groups" not in top:
            continue
        found = True
        if not name or not NAMESPACE_PATTERN.match(name):
            raise reader.fail(node, f"namespace {name!r} must match {NAMESPACE_PATTERN.pattern}")
        target = namespaces.setdefault(name, NamespaceSource(name, origin or shown))
        for group_node in reader.sequence(top["groups"], "groups"):
            group = _group(reader, group_node)
            if any(g["name"] == group["name"] for g in target.groups):
                raise reader.fail(group_node, f"group {group['name']!r} is repeated in namespace {name!r}")
            target.groups.append(group)
    if not found:
        raise ImportFailure(
            "not a rule file: no `groups:` (a promtool test file or another YAML?)", f"{shown}:1"
        )
    if len([d for d in documents if d is not None]) > 1:
        for ns in namespaces.values():
            ns.notes.append(
                "several YAML documents: every document's groups are imported (Prometheus reads only the first)"
            )
    return list(namespaces.values())


def _group(reader: _Reader, node: yaml.Node) -> dict[str, Any]:
    fields = reader.fields(node, "group", GROUP_FIELDS)
    name = reader.text(fields["name"], "group name") if "name" in fields else None
    if not name:
        raise reader.fail(node, "a group needs a name")
    group: dict[str, Any] = {"name": name}
    for key in ("interval", "query_offset", "evaluation_delay"):
        if key in fields and (value := reader.text(fields[key], key)):
            group[key] = value
    if "limit" in fields and not fields["limit"].tag.endswith(":null"):
        limit = _scalar(fields["limit"])
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise reader.fail(fields["limit"], "limit must be a whole number")
        group["limit"] = limit
    if "align_evaluation_time_on_interval" in fields:
        value = _scalar(fields["align_evaluation_time_on_interval"])
        if not isinstance(value, bool):
            raise reader.fail(
                fields["align_evaluation_time_on_interval"],
                "align_evaluation_time_on_interval must be true or false",
            )
        group["align_evaluation_time_on_interval"] = value
    if "source_tenants" in fields:
        tenants = [
            reader.text(t, "source_tenants") or ""
            for t in reader.sequence(fields["source_tenants"], "source_tenants")
        ]
        if tenants:
            group["source_tenants"] = tenants
    if "labels" in fields and (labels := reader.strings(fields["labels"], "labels")):
        group["labels"] = labels
    rules = [_rule(reader, r) for r in reader.sequence(fields["rules"], "rules")] if "rules" in fields else []
    if not rules:
        raise reader.fail(node, f"group {name!r} has no rules (lgtm-dash keeps no empty group)")
    group["rules"] = rules
    return group


def _scalar(node: yaml.Node) -> Any:
    return yaml.load(yaml.serialize(node), Loader=_LOADER)


def _rule(reader: _Reader, node: yaml.Node) -> dict[str, Any]:
    fields = reader.fields(node, "rule", RULE_FIELDS)
    record = reader.text(fields["record"], "record") if "record" in fields else None
    alert = reader.text(fields["alert"], "alert") if "alert" in fields else None
    if bool(record) == bool(alert):
        raise reader.fail(
            node, "a rule is either an alert or a recording rule: give exactly one of alert, record"
        )
    expr = reader.text(fields["expr"], "expr") if "expr" in fields else None
    if not expr:
        raise reader.fail(node, f"rule {(record or alert)!r} has no expr")
    rule: dict[str, Any] = {"record": record} if record else {"alert": alert}
    rule["expr"] = expr
    for key in ("for", "keep_firing_for"):
        if key in fields and (value := reader.text(fields[key], key)):
            if record:
                raise reader.fail(fields[key], f"recording rule {record!r} cannot have `{key}`")
            rule[key] = value
    if record and "{" in record:
        raise reader.fail(
            fields["record"], f"braces in the recording rule name {record!r}: should they be in expr?"
        )
    if "labels" in fields and (labels := reader.strings(fields["labels"], "labels")):
        invalid = sorted(k for k in labels if not k or k == "__name__")
        if invalid:
            raise reader.fail(fields["labels"], f"invalid label name {invalid[0]!r}")
        rule["labels"] = labels
    if "annotations" in fields and (annotations := reader.strings(fields["annotations"], "annotations")):
        if record:
            raise reader.fail(fields["annotations"], f"recording rule {record!r} cannot have annotations")
        rule["annotations"] = annotations
    return rule


# --- code --------------------------------------------------------------------------------------------------


def _rule_call(rule: dict[str, Any]) -> Call:
    if "record" in rule:
        kwargs: dict[str, Any] = {"name": rule["record"], "expr": rule["expr"]}
        if "labels" in rule:
            kwargs["labels"] = rule["labels"]
        return Call(Record, (), kwargs)
    kwargs = {"name": rule["alert"], "expr": rule["expr"]}
    for key, arg in (
        ("for", "for_"),
        ("keep_firing_for", "keep_firing_for"),
        ("labels", "labels"),
        ("annotations", "annotations"),
    ):
        if key in rule:
            kwargs[arg] = rule[key]
    return Call(Alert, (), kwargs)


def _group_call(group: dict[str, Any]) -> Call:
    kwargs: dict[str, Any] = {"name": group["name"]}
    for key in (
        "interval",
        "query_offset",
        "limit",
        "labels",
        "evaluation_delay",
        "align_evaluation_time_on_interval",
    ):
        if key in group:
            kwargs[key] = group[key]
    if "source_tenants" in group:
        kwargs["source_tenants"] = tuple(group["source_tenants"])
    kwargs["rules"] = tuple(_rule_call(r) for r in group["rules"])
    return Call(RuleGroup, (), kwargs)


def generate(source: NamespaceSource, module: str) -> GeneratedNamespace:
    taken = {"namespace", "Alert", "Record", "RuleGroup", "RuleNamespace"}
    groups: list[tuple[str, Call]] = []
    for group in source.groups:
        base = python_name(group["name"])
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        groups.append((name, _group_call(group)))
    namespace = Call(
        RuleNamespace,
        (),
        {"name": source.name, "groups": tuple(Name(n, evaluate(c)) for n, c in groups)},
    )
    built = evaluate(namespace).to_file()["groups"]
    if built != source.groups:
        raise ImportFailure(f"namespace {source.name!r}: the generated code does not build the same rules")
    used = sorted(
        {"RuleGroup", "RuleNamespace"} | {c.fn.__name__ for _, g in groups for c in g.kwargs["rules"]}
    )
    lines = [
        f'"""Rule namespace {source.name}: imported from {source.origin} by `lgtm-dash import`.{_notes(source.notes)}"""',
        "",
        f"from lgtm_dash.model.rules import {', '.join(used)}",
        "",
    ]
    for name, call in groups:
        lines += ["", f"{name} = {render(call)}", ""]
    lines += ["", f"namespace = {render(namespace)}", ""]
    return GeneratedNamespace(source.name, module, "\n".join(lines), source.groups, list(source.notes))


def _notes(notes: list[str]) -> str:
    if not notes:
        return ""
    return "\n\nOn import:\n" + "\n".join(f"- {n}" for n in notes) + "\n"


def module_base(namespace: str) -> str:
    return python_name(re.sub(r"\.ya?ml$", "", namespace))
