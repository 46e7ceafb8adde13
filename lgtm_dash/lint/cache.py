"""Lint's cache: what each dashboard file of an out/ tree gave in earlier runs, so that `lgtm-dash lint` after a
small change reads and checks only the dashboards the change can affect.

For every dashboard file it keeps the file's content digest (with the stat that vouches for it, see
`lgtm_dash.buildcache.OutIndex`), the facts whole-run checks need of it (uid, title, suppressions, the metrics
its queries rate) and its findings, under a key made of everything those findings depend on: the file's content
and name, its source-map entries (where findings point), the enabled rules, the toolkit, and the run-wide
facts dashboard checks read (`LintContext.run_facts`: datasources, dashboard uids, recording rules, the metric
catalog and MySQL schema...). A dashboard is read and checked again whenever any of it differs; rules and the
whole-run checks (duplicates, cross-references of rules) always run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from ..buildcache import OutIndex, combine, read_state, state_path, toolkit_fingerprint, write_state
from .findings import Finding, Severity
from .inputs import DashboardDoc, KnownDashboard, LintInput

# The Finding fields kept (in this order); `suppressed` findings are never kept.
_FIELDS = ("file", "line", "rule", "severity", "message", "dashboard", "panel", "query", "input")


class LintCache:
    """The cache of one out/ tree (`read_out_tree(out, known=cache)`, then `lint(..., cache=cache)`)."""

    def __init__(self, project_root: Path, out_dir: Path, *scope: str):
        self.out_dir = Path(out_dir).resolve()
        self.path = state_path(project_root, "lint", str(self.out_dir), *scope)
        state = read_state(self.path)
        self.index = OutIndex(self.out_dir, state.get("files"))
        self.entries: dict[str, dict[str, Any]] = state.get("dashboards") or {}
        self.reused = 0

    def _rel(self, path: Path) -> str | None:
        try:
            return Path(path).resolve().relative_to(self.out_dir).as_posix()
        except ValueError:
            return None

    # --- what read_out_tree asks (lgtm_dash.lint.inputs.KnownFiles)

    def digest(self, path: Path) -> str | None:
        rel = self._rel(path)
        return self.index.digest_of(rel) if rel is not None else None

    def known(self, path: Path) -> bool:
        rel = self._rel(path)
        entry = self.entries.get(rel) if rel is not None else None
        return entry is not None and entry.get("digest") == self.digest(path)

    def dashboard(self, path: Path, file: str, sources: Mapping[str, str]) -> KnownDashboard:
        entry = self.entries[self._rel(path) or ""]
        return KnownDashboard(
            path, file, sources, entry["digest"], {**entry["facts"], "key": entry["facts_key"]}
        )

    # --- what the engine asks

    @staticmethod
    def facts_key(lint_input: LintInput) -> str:
        """What a dashboard's facts depend on beyond its own content (its queries' languages: the datasources)."""
        datasources = orjson.dumps(lint_input.datasources, option=orjson.OPT_SORT_KEYS, default=repr)
        return combine([toolkit_fingerprint(), datasources.decode()])

    def findings(self, dash: DashboardDoc | KnownDashboard, key: str) -> list[Finding] | None:
        entry = self.entries.get(self._rel(dash.path) or "") if dash.path is not None else None
        if entry is None or entry.get("key") != key or entry.get("digest") != dash.digest:
            return None
        self.reused += 1
        return [_finding(item) for item in entry["findings"]]

    def store(
        self,
        dash: DashboardDoc,
        facts_key: str,
        facts: Mapping[str, Any],
        key: str,
        findings: Iterable[Finding],
    ) -> None:
        rel = self._rel(dash.path) if dash.path is not None else None
        if rel is None or not dash.digest:
            return
        self.entries[rel] = {
            "digest": dash.digest,
            "facts_key": facts_key,
            "facts": dict(facts),
            "key": key,
            "findings": [[getattr(f, name) for name in _FIELDS] for f in sorted(findings)],
        }

    def save(self, dashboards: Iterable[DashboardDoc | KnownDashboard]) -> None:
        """Write the cache, keeping only the dashboards of this run."""
        current = {
            rel for dash in dashboards if dash.path is not None and (rel := self._rel(dash.path)) is not None
        }
        self.entries = {rel: entry for rel, entry in self.entries.items() if rel in current}
        self.index.keep_only(current)
        write_state(self.path, {"files": self.index.entries, "dashboards": self.entries})


def _finding(item: list[Any]) -> Finding:
    values = dict(zip(_FIELDS, item))
    values["severity"] = Severity(values["severity"])
    return Finding(**values)
