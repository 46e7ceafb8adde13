"""The state one lint run shares between checks: what is known (datasources, dashboards, recording rules,
the metric catalog), every query found in the input with its language, and parse caches.

Built once per run; queries are parsed at most once per distinct interpolated text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from ..errors import DefinitionError
from ..source import SourceLocation
from ..yamlio import load_yaml_file
from .findings import Finding, Severity, one_line
from .inputs import DashboardDoc, KnownDashboard, LintInput, PanelDoc, RuleDoc, RuleGroupDoc
from .interpolate import InterpolationError, Interpolator
from .promql_ast import parse_promql, recorded_kind, walk
from .registry import ignored_by

# Datasource plugin type -> query language the linter understands.
LANGUAGES = {"prometheus": "promql", "loki": "logql", "mysql": "sql"}
# Names that give away a datasource's type when only a name is known (legacy string references).
NAME_HINTS = (("loki", "logql"), ("prom", "promql"), ("mimir", "promql"), ("thanos", "promql"),
              ("cortex", "promql"), ("mysql", "sql"))  # fmt: skip
BUILTIN_DATASOURCES = {
    "grafana",
    "-- grafana --",
    "-- mixed --",
    "-- dashboard --",
    "__expr__",
    "-100",
    "mixed",
}
DATASOURCE_VARIABLE = re.compile(r"^\$\{?(\w+)(?::\w+)?\}?$|^\[\[(\w+)\]\]$")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Panels that never run queries: targets left in them (from a copied panel) are not checked.
NO_DATA_PANELS = frozenset(
    {"row", "text", "news", "dashlist", "alertlist", "annolist", "welcome", "gettingstarted"}
)
RATED_METRIC = re.compile(r"\b(rate|irate|increase)\s*\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)")
# Parsed query texts kept across dashboards (a repeated query is parsed once) before the cache starts over.
PARSE_CACHE_SIZE = 4096
# Where a target keeps its query text, by datasource kind.
QUERY_FIELDS = ("expr", "rawSql", "query", "target")


@dataclass(frozen=True)
class Query:
    """One query the linter checks: a panel target, a template variable query, an annotation or a rule expr."""

    text: str
    language: str  # "promql", "logql" or "sql"
    origin: str  # "panel", "variable", "annotation" or "rule"
    # True when the datasource's type is known; False when the language was guessed from the target's fields.
    certain: bool
    dashboard: DashboardDoc | None = None
    panel: PanelDoc | None = None
    ref: str = ""  # target refId, variable name or annotation name
    rule: RuleDoc | None = None
    interpolator: Interpolator | None = field(default=None, compare=False, repr=False)
    target: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)  # the panel target

    @property
    def instant(self) -> bool:
        """An instant query (one value per series, no step): a rule, or a target with only `instant` set."""
        if self.origin == "rule":
            return True
        target = self.target or {}
        if self.language == "logql":
            return target.get("queryType") == "instant"
        return target.get("instant") is True and target.get("range") is not True

    @property
    def label(self) -> str:
        if self.rule is not None:
            return self.rule.label
        parts = [self.dashboard.label] if self.dashboard else []
        if self.panel is not None:
            parts.append(f"panel {self.panel.title or f'id {self.panel.id}'!r}")
        if self.origin == "variable":
            parts.append(f"variable {self.ref!r}")
        elif self.origin == "annotation":
            parts.append(f"annotation {self.ref!r}")
        elif self.ref:
            parts.append(f"query {self.ref}")
        return ", ".join(parts)

    def interpolated(self) -> str:
        """The text with Grafana variables replaced as this language's parser needs. May raise InterpolationError."""
        if self.interpolator is None:
            return self.text
        if self.language == "logql":
            return self.interpolator.with_options(keep_range_macros=True)(self.text)
        if self.language == "sql":
            return self.interpolator.with_options(keep_macros=True)(self.text)
        return self.interpolator(self.text)


@dataclass(frozen=True)
class Catalog:
    """The metric catalog (`catalog.yaml`): which metrics and labels exist, and their types."""

    metrics: Mapping[str, Mapping[str, Any]]
    common_labels: frozenset[str]
    loki: Mapping[str, Any]
    mysql: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path) -> Catalog:
        data = load_yaml_file(path) or {}
        if not isinstance(data, Mapping) or not isinstance(data.get("metrics") or {}, Mapping):
            raise DefinitionError("catalog must be a mapping with a `metrics:` mapping", f"{path}:1")
        metrics: dict[str, Mapping[str, Any]] = {}
        for name, spec in (data.get("metrics") or {}).items():
            spec = spec if isinstance(spec, Mapping) else {}
            metrics[str(name)] = spec
            if spec.get("type") == "histogram":  # the series a classic histogram really exposes
                labels = list(spec.get("labels") or [])
                metrics[f"{name}_bucket"] = {"type": "counter", "labels": [*labels, "le"]}
                metrics[f"{name}_sum"] = {"type": "counter", "labels": labels}
                metrics[f"{name}_count"] = {"type": "counter", "labels": labels}
        return cls(
            metrics=metrics,
            common_labels=frozenset(str(x) for x in data.get("common_labels") or []),
            loki=data.get("loki") or {},
            mysql=data.get("mysql") or {},
        )

    def metric_type(self, name: str) -> str | None:
        spec = self.metrics.get(name)
        return str(spec.get("type")) if spec and spec.get("type") else None

    def labels_of(self, name: str) -> frozenset[str]:
        spec = self.metrics.get(name) or {}
        return frozenset(str(x) for x in spec.get("labels") or []) | self.common_labels


class LintContext:
    """Everything a check may consult. `queries` lists every query of the input once."""

    def __init__(self, lint_input: LintInput, catalog: Catalog | None = None, project: Path | None = None):
        self.input = lint_input
        self.catalog = catalog
        self.project = project
        # What the servers answered in `lint --live` (a `lgtm_dash.live.run.LiveAnswers`), else None.
        self.live: Any = None
        self.datasources: dict[str, Mapping[str, Any]] | None = None
        if lint_input.datasources is not None:
            self.datasources = {}
            for ds in lint_input.datasources:
                for key in (ds.get("uid"), ds.get("name")):
                    if isinstance(key, str) and key:
                        self.datasources[key] = ds
        self.dashboard_uids = {d.uid for d in lint_input.dashboards if d.uid}
        self.recording_rules: dict[str, RuleDoc] = {}
        for group in lint_input.rule_groups:
            for rule in group.rules:
                if isinstance(rule.data.get("record"), str):
                    self.recording_rules.setdefault(rule.data["record"], rule)
        self._parse_cache: dict[tuple[str, str], tuple[Any, str | None, tuple[str, ...]]] = {}
        self._query_cache: dict[int, tuple[Query, tuple[Any, str | None, tuple[str, ...]]]] = {}
        self._nodes_cache: dict[int, tuple[Query, list[tuple[Any, tuple[Any, ...]]]]] = {}
        self._cache_owner: DashboardDoc | None = None

    # ------------------------------------------------------------- queries

    @cached_property
    def queries(self) -> list[Query]:
        """Every query of the input: of its dashboards (those lint's cache answers for excepted: see
        `lgtm_dash.lint.cache`) and of its rules."""
        found: list[Query] = []
        for dash in self.input.dashboards:
            if not isinstance(dash, KnownDashboard):
                found.extend(self._dashboard_queries(dash))
        for group in self.input.rule_groups:
            for rule in group.rules:
                expr = rule.data.get("expr")
                if isinstance(expr, str | int | float) and not isinstance(expr, bool) and str(expr).strip():
                    found.append(
                        Query(text=str(expr), language=rule.language, origin="rule", certain=True, rule=rule)
                    )
        return found

    def dashboard_queries(self, dash: DashboardDoc) -> list[Query]:
        """The queries of one dashboard (panel targets, variables, annotations): the very objects of `queries`
        (what a live run answered is kept per query object), or made now for one read later."""
        known = self._queries_by_dashboard.get(id(dash))
        return known[1] if known is not None and known[0] is dash else list(self._dashboard_queries(dash))

    @cached_property
    def _queries_by_dashboard(self) -> dict[int, tuple[DashboardDoc, list[Query]]]:
        grouped: dict[int, tuple[DashboardDoc, list[Query]]] = {}
        for query in self.queries:
            if query.dashboard is not None:
                grouped.setdefault(id(query.dashboard), (query.dashboard, []))[1].append(query)
        return grouped

    def _dashboard_queries(self, dash: DashboardDoc) -> Iterator[Query]:
        interpolator = Interpolator.for_templating(dash.templating)
        default = self._default_language(dash)
        for panel in dash.panels:
            if panel.data.get("type") in NO_DATA_PANELS:
                continue
            panel_ds = panel.data.get("datasource")
            for target in panel.data.get("targets") or []:
                if not isinstance(target, Mapping) or target.get("hide") is True:
                    continue
                ds = target.get("datasource")
                if ds is None or _is_mixed(ds):
                    ds = panel_ds
                language, certain = self.language_of(dash, ds, default)
                text, language, certain = _query_text(target, language, certain)
                if text is None or language is None or not text.strip():
                    continue  # an empty target: Grafana skips it (dashboard/panel-targets sees a panel of them)
                yield Query(text=text, language=language, origin="panel", certain=certain, dashboard=dash,
                            panel=panel, ref=str(target.get("refId") or ""), interpolator=interpolator,
                            target=target)  # fmt: skip
        for variable in dash.templating:
            if variable.get("type") != "query":
                continue
            language, certain = self.language_of(dash, variable.get("datasource"), default)
            query = variable_query_text(variable.get("query"), language)
            if query is None or not query.strip():
                continue
            if language in ("promql", "sql", "logql"):
                yield Query(text=query, language=language, origin="variable", certain=certain, dashboard=dash,
                            ref=str(variable.get("name") or ""), interpolator=interpolator)  # fmt: skip
        annotations = (dash.data.get("annotations") or {}).get("list") or []
        for annotation in annotations if isinstance(annotations, list) else []:
            if not isinstance(annotation, Mapping) or not isinstance(annotation.get("expr"), str):
                continue
            language, certain = self.language_of(dash, annotation.get("datasource"), default)
            if language in ("promql", "logql") and annotation["expr"].strip():
                yield Query(text=annotation["expr"], language=language, origin="annotation", certain=certain,
                            dashboard=dash, ref=str(annotation.get("name") or ""), interpolator=interpolator)  # fmt: skip

    def _default_language(self, dash: DashboardDoc) -> str | None:
        """The language of a panel without a datasource: the dashboard's datasource variables, if of one type."""
        types = {
            str(v.get("query")) for v in dash.templating if v.get("type") == "datasource" and v.get("query")
        }
        languages = {LANGUAGES.get(t.lower()) for t in types}
        if len(languages) == 1:
            return languages.pop()
        if self.datasources:
            default = next((d for d in self.datasources.values() if d.get("isDefault")), None)
            if default:
                return LANGUAGES.get(str(default.get("type")))
        return None

    def language_of(self, dash: DashboardDoc, ref: Any, default: str | None) -> tuple[str | None, bool]:
        """(language, certain) of a datasource reference; (None, False) when unknown."""
        kind = self.datasource_type(dash, ref)
        if kind is not None:
            return LANGUAGES.get(kind.lower()), True
        if (
            ref is None
            or ref == ""
            or (isinstance(ref, Mapping) and not ref.get("uid") and not ref.get("type"))
        ):
            return default, default is not None
        uid = ref.get("uid") if isinstance(ref, Mapping) else ref
        if isinstance(uid, str) and datasource_variable_name(uid) is not None:
            return (
                default,
                False,
            )  # a variable we cannot resolve: most likely the dashboard's usual datasource
        return None, False

    def datasource_type(self, dash: DashboardDoc, ref: Any) -> str | None:
        """The plugin type a datasource reference resolves to, or None."""
        if isinstance(ref, Mapping):
            if isinstance(ref.get("type"), str) and ref["type"] and "$" not in ref["type"]:
                return ref["type"]
            ref = ref.get("uid")
        if not isinstance(ref, str) or not ref:
            return None
        variable = datasource_variable_name(ref)
        if variable is not None:
            for entry in dash.templating:
                if entry.get("name") == variable and entry.get("type") == "datasource" and entry.get("query"):
                    return str(entry["query"])
            for item in dash.data.get("__inputs") or []:
                if isinstance(item, Mapping) and item.get("name") == variable and item.get("pluginId"):
                    return str(item["pluginId"])
            return None
        if self.datasources and ref in self.datasources:
            return str(self.datasources[ref].get("type"))
        lowered = ref.lower()
        for hint, language in NAME_HINTS:
            if hint in lowered:
                return next(t for t, lang in LANGUAGES.items() if lang == language)
        return None

    # ------------------------------------------------------------- parsing

    def parse(self, query: Query) -> tuple[Any, str | None]:
        """(AST or summary, error message). Cached per query, and per language and interpolated text."""
        ast, error, _features = self._parsed(query)
        return ast, error

    def _scope(self, query: Query) -> None:
        """Per-query caches hold the dashboard being checked (and rules) only: memory stays flat."""
        owner = query.dashboard
        if owner is not self._cache_owner:
            self._cache_owner = owner
            self._query_cache.clear()
            self._nodes_cache.clear()
            if len(self._parse_cache) > PARSE_CACHE_SIZE:
                self._parse_cache.clear()

    def nodes(self, query: Query) -> list[tuple[Any, tuple[Any, ...]]]:
        """Every node of a query's AST with its ancestors (`promql_ast.walk`), walked once for all checks;
        [] when it does not parse."""
        self._scope(query)
        known = self._nodes_cache.get(id(query))
        if known is not None and known[0] is query:
            return known[1]
        ast = self.parse(query)[0]
        nodes = list(walk(ast)) if ast is not None and query.language == "promql" else []
        self._nodes_cache[id(query)] = (query, nodes)
        return nodes

    def experimental_features(self, query: Query) -> tuple[str, ...]:
        """Prometheus 3.x syntax behind feature flags that the query uses (parsed without it)."""
        return self._parsed(query)[2]

    def _parsed(self, query: Query) -> tuple[Any, str | None, tuple[str, ...]]:
        self._scope(query)
        known = self._query_cache.get(id(query))
        if known is not None and known[0] is query:
            return known[1]
        result = self._parse_uncached(query)
        self._query_cache[id(query)] = (query, result)
        return result

    def _parse_uncached(self, query: Query) -> tuple[Any, str | None, tuple[str, ...]]:
        try:
            text = query.interpolated()
        except InterpolationError as err:
            return None, f"cannot interpolate Grafana variables: {err}", ()
        if query.origin == "variable" and query.language in ("promql", "logql"):
            selector = variable_query_selector(text)
            if selector is None:
                return None, None, ()  # label_names(), metrics(...), label_values(label): nothing to parse
            text = selector
        key = (query.language, text)
        cached = self._parse_cache.get(key)
        if cached is None:
            cached = self._parse_cache[key] = _parse(query.language, text)
        return cached

    # ------------------------------------------------------------- metric types

    @cached_property
    def rated_metrics(self) -> frozenset[str]:
        """Metrics some PromQL query of the input passes to rate(), irate() or increase(): the input's own
        evidence that they are counters. Read from the text (no parsing), once per run, before workers fork."""
        names: set[str] = set(rated_in(self.queries))
        for dash in self.input.dashboards:
            if isinstance(dash, KnownDashboard):
                names.update(dash.facts.get("rated") or ())
        return frozenset(names)

    def run_facts(self) -> str:
        """What the dashboard and query checks may read beyond the dashboard in hand, as text: lint's cache keeps
        a dashboard's findings only while all of this is the same (a check reading more must add it here)."""
        recording = sorted((name, str(rule.data.get("expr"))) for name, rule in self.recording_rules.items())
        catalog = self.catalog
        schema = None
        if catalog is not None and isinstance(catalog.mysql, Mapping) and self.project is not None:
            relative = catalog.mysql.get("schema")
            if isinstance(relative, str) and relative:
                try:
                    schema = (self.project / relative).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    schema = "unreadable"
        facts = {
            "datasources": None if self.datasources is None else sorted(self.datasources.items()),
            "dashboards": sorted(self.dashboard_uids),
            "rated": sorted(self.rated_metrics),
            "recording": recording,
            "catalog": None
            if catalog is None
            else [catalog.metrics, sorted(catalog.common_labels), catalog.loki, catalog.mysql],
            "schema": schema,
            "project": str(self.project),
            "complete": self.input.complete,
        }
        return orjson.dumps(facts, option=orjson.OPT_SORT_KEYS, default=repr).decode()

    def metric_type(self, name: str) -> str | None:
        """The type of a metric when it is known, else None: the catalog's, or (in `lint --live`, for what the
        catalog does not describe) the servers' metadata's. A hand-written type wins; where a server contradicts
        it, `live/rate-of-gauge` and `live/counter-used-raw` say so."""
        known = self.catalog.metric_type(name) if self.catalog is not None else None
        if known is None and self.live is not None:
            return self.live.metric_type(name)
        return known

    def metric_type_source(self, name: str) -> str:
        """Where `metric_type(name)` comes from, for messages: "" (the catalog) or " (server metadata)"."""
        catalogued = self.catalog is not None and self.catalog.metric_type(name) is not None
        return " (server metadata)" if not catalogued and self.live is not None else ""

    def recorded_kind(self, name: str) -> str | None:
        """What a recording rule of this build records: "gauge" when its expression computes over windows
        (rate(), increase(), *_over_time()...), "aggregated samples" when it aggregates raw series, else None."""
        rule = self.recording_rules.get(name)
        ast = self.parse_rule(rule) if rule is not None else None
        return recorded_kind(ast) if ast is not None else None

    @cached_property
    def _rule_queries(self) -> dict[int, Query]:
        return {id(q.rule): q for q in self.queries if q.rule is not None}

    def rule_query(self, rule: RuleDoc) -> Query | None:
        """The expression of a rule as a query (None when it has none)."""
        return self._rule_queries.get(id(rule))

    def parse_rule(self, rule: RuleDoc) -> Any:
        """The PromQL AST of a rule's expression, or None when it has none, it does not parse, or it is LogQL
        (a Loki rule: `lgtm_dash.lint.logql_labels` analyses those)."""
        query = self.rule_query(rule)
        return self.parse(query)[0] if query is not None and query.language == "promql" else None

    # ------------------------------------------------------------- findings

    def finding(self, rule: str, severity: Severity, message: str, *, query: Query | None = None,
                dashboard: DashboardDoc | None = None, panel: PanelDoc | None = None,
                rule_doc: RuleDoc | None = None, group: RuleGroupDoc | None = None, file: str | None = None,
                line: int = 0) -> Finding:  # fmt: skip
        """A finding located at the Python definition when the source map knows it, else at the input file.

        It is marked `suppressed` when its subject (panel, dashboard, rule, group, file) ignores the rule.
        """
        if query is not None:
            dashboard, panel, rule_doc = query.dashboard, query.panel, query.rule
        ignores: tuple[str, ...] = ()
        location: SourceLocation | None
        source: str | None
        if rule_doc is not None:
            location = rule_doc.location()
            source, ignores = rule_doc.file, rule_doc.ignores
        elif group is not None:
            location = group.location()
            source, ignores = group.file, group.ignores
        elif dashboard is not None:
            location = dashboard.location(panel)
            source, ignores = dashboard.file, dashboard.ignores + (panel.ignores if panel else ())
        else:
            location, source = None, file
        return Finding(
            file=location.file if location else (file or ""),
            line=location.line if location else line,
            rule=rule,
            severity=severity,
            message=message,
            dashboard=dashboard.uid if dashboard else None,
            panel=(panel.title or f"id {panel.id}") if panel else None,
            query=one_line(query.text) if query else None,
            input=source,
            suppressed=bool(ignores) and ignored_by(rule, ignores),
        )


def rated_in(queries: Iterable[Query]) -> set[str]:
    """Metrics the PromQL queries pass to rate(), irate() or increase() (read from the text)."""
    names: set[str] = set()
    for query in queries:
        if query.language == "promql" and "(" in query.text:
            names.update(m.group(2) for m in RATED_METRIC.finditer(query.text))
    return names


VARIABLE_FUNCTION = re.compile(
    r"^\s*(label_names|label_values|metrics|query_result)\s*\((.*)\)\s*$", re.DOTALL
)


def variable_query_text(query: Any, language: str | None) -> str | None:
    """A template variable's query as text: a string, or the query object of newer Grafana versions."""
    if isinstance(query, str):
        return query
    if not isinstance(query, Mapping):
        return None
    if language == "logql":  # Loki's {type: labelValues, label, stream}: the stream selector is the query
        stream = query.get("stream")
        return stream if isinstance(stream, str) and stream.strip() else None
    inner = query.get("query") or query.get("expr")
    return inner if isinstance(inner, str) else None


def variable_query_selector(text: str) -> str | None:
    """The query inside a Prometheus or Loki template variable query (Grafana's `label_values(...)` & co)."""
    match = VARIABLE_FUNCTION.match(text)
    if match is None:
        return text  # any other text is run as a series query
    function, inner = match.groups()
    if function == "query_result":
        return inner
    if function == "label_values":
        comma = _last_top_level_comma(inner)
        return inner[:comma] if comma is not None else None
    if function == "label_names" and inner.strip():
        return inner
    return None


def _last_top_level_comma(text: str) -> int | None:
    depth, quote, last, any_last = 0, "", None, None
    for i, char in enumerate(text):
        if char == ",":
            any_last = i
        if quote:
            if char == quote and text[i - 1] != "\\":
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif char == "," and depth == 0:
            last = i
    return last if depth == 0 else any_last  # unbalanced: the label is still after the last comma


def datasource_variable_name(ref: str) -> str | None:
    match = DATASOURCE_VARIABLE.match(ref.strip())
    return (match.group(1) or match.group(2)) if match else None


def _is_mixed(ref: Any) -> bool:
    uid = ref.get("uid") if isinstance(ref, Mapping) else ref
    return isinstance(uid, str) and uid.lower() in ("-- mixed --", "mixed")


def _query_text(
    target: Mapping[str, Any], language: str | None, certain: bool
) -> tuple[str | None, str | None, bool]:
    """The query text of a target and its language; guessed from the fields when the datasource is unknown."""
    expr, raw_sql = target.get("expr"), target.get("rawSql")
    if language in ("promql", "logql"):
        return (expr if isinstance(expr, str) else None), language, certain
    if language == "sql":
        if target.get("rawQuery") is False and target.get("editorMode") == "builder":
            return None, None, certain  # the visual query builder: rawSql is generated by Grafana
        return (raw_sql if isinstance(raw_sql, str) else None), language, certain
    if language is None and not certain:
        if isinstance(expr, str):
            return expr, "promql", False
        if isinstance(raw_sql, str):
            return raw_sql, "sql", False
    return None, None, certain


def _parse(language: str, text: str) -> tuple[Any, str | None, tuple[str, ...]]:
    """(AST or summary, error, Prometheus 3.x experimental features used)."""
    if language == "promql":
        if not text.strip():
            return None, "empty query", ()
        return parse_promql(text)
    if language == "logql":
        from .logql import LogQLSyntaxError, parse_logql

        if not text.strip():
            return None, "empty query", ()
        try:
            return parse_logql(text), None, ()
        except LogQLSyntaxError as err:
            return None, err.message, ()
        except RecursionError:
            return None, "query is nested too deeply", ()
    return None, None, ()  # SQL is parsed by the SQL checks themselves
