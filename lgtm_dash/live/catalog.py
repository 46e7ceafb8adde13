"""`lgtm-dash catalog --live --env dev [--check] [--all]`: refresh catalog.yaml from what the servers hold.

For every metric the project's queries use (and every metric already listed; with `--all`, every metric
the servers have metadata for), the catalog gets the server's type and help (`/api/v1/metadata`) and the
labels its series carry (`/api/v1/labels`, minus the `common_labels`). What is written by hand is never
dropped or overwritten: a hand-written type or help stays, labels are only added. New metrics go to the
end, sorted, under one comment. The file is rewritten with ruamel.yaml, so comments and layout stay as they
are, and the same answers always give the same bytes. `--check` writes nothing and exits 1 when a refresh
would change the file.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

from ..clients.query import Deadline
from ..errors import EXIT_FINDINGS, EXIT_OK, EXIT_REMOTE, DefinitionError, UsageError
from ..source import display_path
from .gather import Gatherer, ServerState
from .run import DEFAULT_CONCURRENCY, DEFAULT_SINCE, DEFAULT_TIME_BUDGET_S, LiveOptions
from .selectors import PromSelector
from .targets import RULER, direct_target, grafana_target

CATALOG_FILE = "catalog.yaml"
ADDED_COMMENT = "added by `lgtm-dash catalog --live` (type, help and labels as the servers report them)"
SERIES_LABELS = {"histogram": {"le"}, "summary": {"quantile"}, "gaugehistogram": {"le"}}
FAMILY_SUFFIXES = ("_bucket", "_sum", "_count")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--live", action="store_true", help="refresh from the live servers (required)")
    parser.add_argument("--env", default=None, help="environment of environments.yaml to ask (default: dev)")
    parser.add_argument("--since", default=DEFAULT_SINCE, help=f"look-back window (default: {DEFAULT_SINCE})")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the catalog is out of date"
    )
    parser.add_argument(
        "--all", action="store_true", help="add every metric the servers describe, not only the used ones"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the compiled project to read queries from (default: <project>/out)",
    )
    parser.add_argument(
        "--via-grafana", action="store_true", help="reach the servers through Grafana's datasource proxy"
    )
    parser.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="requests in flight at once"
    )


def _yaml() -> Any:
    from ruamel.yaml import YAML

    handler = YAML()
    handler.preserve_quotes = True
    handler.width = 4096
    handler.indent(mapping=2, sequence=4, offset=2)
    return handler


def run(args: argparse.Namespace) -> int:
    from ..environments import resolve_environment
    from ..lint.context import LintContext
    from ..lint.inputs import read_paths

    if not args.live:
        raise UsageError("catalog: only `--live` is supported (refresh catalog.yaml from the servers)")
    path = args.project / CATALOG_FILE
    if not path.is_file():
        raise DefinitionError(f"{CATALOG_FILE} not found", display_path(path))
    env = resolve_environment(args.project, args.env)
    out = args.out or args.project / "out"
    ctx = LintContext(read_paths([out]), None, args.project)
    options = LiveOptions(
        env=env, since=args.since, via_grafana=args.via_grafana, concurrency=args.concurrency
    )
    gatherer = Gatherer(
        options.window(), concurrency=options.concurrency, deadline=Deadline.after(DEFAULT_TIME_BUDGET_S)
    )

    handler = _yaml()
    text = path.read_text(encoding="utf-8")
    data = handler.load(text)
    listed = set((data.get("metrics") or {}).keys())
    used = _used_metrics(ctx) | listed
    servers = _prometheus_servers(ctx, env, gatherer, args.via_grafana)
    for state in servers:
        for metric in sorted(used):
            gatherer.want_prom(state, PromSelector(metric, (), "range"))
        state.wants_metadata = True
    gatherer.run()
    reachable = [s for s in servers if s.checked]
    for state in servers:
        if state.failed:
            print(f"catalog: {state.target.name}: not asked: {state.failed}", file=sys.stderr)
    if not reachable:
        return EXIT_REMOTE
    if args.all:
        for state in reachable:
            extra = {m for m in (state.metadata or {}) if m in (state.metric_names or set())} - used
            for metric in sorted(extra):
                gatherer.want_prom(state, PromSelector(metric, (), "range"))
        gatherer.run()

    live = _live_metrics(reachable, set(ctx.recording_rules))
    added, updated = merge(data, live, wanted=used if not args.all else None)
    stream = io.StringIO()
    handler.dump(data, stream)
    new_text = insert_metrics(stream.getvalue(), added)
    shown = display_path(path)
    if new_text == text:
        print(f"catalog: {shown} is up to date ({len(live)} metrics seen, env {env.name}, last {args.since})")
        return EXIT_OK
    summary = f"{len(added)} metric(s) to add, {len(updated)} to complete"
    if args.check:
        print(f"catalog: {shown} is out of date: {summary} (run `lgtm-dash catalog --live --env {env.name}`)")
        for name in sorted(added):
            print(f"  + {name}")
        for name in sorted(updated):
            print(f"  ~ {name}")
        return EXIT_FINDINGS
    path.write_text(new_text, encoding="utf-8")
    print(f"catalog: {shown} refreshed: {summary.replace(' to ', ' ').replace('to add', 'added')}")
    return EXIT_OK


def _used_metrics(ctx: Any) -> set[str]:
    from .selectors import expanded, interpolators_by_dashboard, prom_selectors

    names = set()
    for query, interpolator in interpolators_by_dashboard([q for q in ctx.queries if q.language == "promql"]):
        text = expanded(query, interpolator)
        for selector in prom_selectors(text, query.origin) if text else []:
            if selector.metric and not selector.metric_from_variable:
                names.add(selector.metric)
    return names


def _prometheus_servers(ctx: Any, env: Any, gatherer: Gatherer, via_grafana: bool) -> list[ServerState]:
    """Every Prometheus-type datasource of the project that the environment configures, and the ruler's tenant."""
    datasources = ctx.input.datasources or []
    prometheus = sorted(
        str(ds["uid"]) for ds in datasources if ds.get("type") == "prometheus" and ds.get("uid")
    )
    uids = [RULER, *prometheus]
    servers: dict[int, ServerState] = {}
    for uid in uids:
        if uid != RULER and uid not in env.datasources:
            continue
        target = (
            grafana_target(uid, "prometheus", env, ctx)
            if via_grafana
            else direct_target(uid, "prometheus", env)
        )
        state = gatherer.server(target, uid)
        servers[id(state)] = state
    return list(servers.values())


def _family(name: str, metadata: dict[str, dict[str, str]]) -> str:
    for suffix in FAMILY_SUFFIXES:
        base = name.removesuffix(suffix)
        if name.endswith(suffix) and metadata.get(base, {}).get("type") in SERIES_LABELS:
            return base
    return name


def _live_metrics(servers: list[ServerState], recorded: set[str]) -> dict[str, dict[str, Any]]:
    """{family: {"type", "help", "labels"}} from every reachable server (first server wins for type/help)."""
    live: dict[str, dict[str, Any]] = {}
    for state in servers:
        metadata = state.metadata or {}
        for name, labels in sorted(state.labels.items()):
            if name in recorded:
                continue  # recording rules are described by the rules themselves
            family = _family(name, metadata)
            entry = live.setdefault(family, {"labels": set()})
            kind = metadata.get(family, {}).get("type") or state.metric_type(family)
            if kind and kind != "unknown":
                entry.setdefault("type", kind)
            help_text = metadata.get(family, {}).get("help")
            if help_text:
                entry.setdefault("help", help_text)
            entry["labels"] |= labels - {"__name__"} - SERIES_LABELS.get(entry.get("type", ""), set())
    return live


def merge(
    data: Any, live: dict[str, dict[str, Any]], wanted: set[str] | None
) -> tuple[dict[str, Any], list[str]]:
    """Complete the listed metrics in place (never dropping or overwriting a hand-written value); return the
    metrics to add, as {name: {"type", "help", "labels"}}, and the names of the completed ones."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    metrics = data.get("metrics")
    if metrics is None:
        metrics = data["metrics"] = CommentedMap()
    common = {str(x) for x in data.get("common_labels") or []}
    added: dict[str, Any] = {}
    updated = []
    for name in sorted(live):
        info = live[name]
        if (
            wanted is not None
            and name not in wanted
            and not any(f"{name}{s}" in wanted for s in FAMILY_SUFFIXES)
        ):
            continue
        labels = sorted(info["labels"] - common)
        entry = metrics.get(name)
        if entry is None:
            added[name] = {**info, "labels": labels}
            continue
        if not isinstance(entry, dict):
            continue
        changed = False
        for key in ("type", "help"):
            if key not in entry and info.get(key):
                entry[key] = info[key]
                changed = True
        known = entry.get("labels")
        if known is None:
            known = entry["labels"] = CommentedSeq()
        missing = [label for label in labels if label not in known]
        if missing:
            known.extend(missing)
            known.fa.set_flow_style()
            changed = True
        if changed:
            updated.append(name)
    return added, updated


def insert_metrics(text: str, added: dict[str, Any]) -> str:
    """The catalog text with new metric entries at the end of its `metrics:` mapping (before the comments
    that introduce the next top-level key), under one comment line."""
    if not added:
        return text
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("metrics:")), None)
    if start is None:
        return text.rstrip("\n") + "\nmetrics:\n" + "".join(_entry(n, added[n]) for n in sorted(added))
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1] not in ("", " ", "#", "\n")), len(lines)
    )
    while end > start + 1 and (lines[end - 1].startswith("#") or not lines[end - 1].strip()):
        end -= 1  # the comments and blank lines before the next key belong to it
    block = [f"\n  # --- {ADDED_COMMENT}\n", *(_entry(name, added[name]) for name in sorted(added))]
    return "".join([*lines[:end], *block, *lines[end:]])


def _entry(name: str, info: dict[str, Any]) -> str:
    parts = [f"  {name}:\n"]
    if info.get("type"):
        parts.append(f"    type: {info['type']}\n")
    parts.append(f"    labels: [{', '.join(info['labels'])}]\n")
    if info.get("help"):
        parts.append(f"    help: {json.dumps(info['help'], ensure_ascii=False)}\n")
    return "".join(parts)
