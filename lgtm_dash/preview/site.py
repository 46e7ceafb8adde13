"""The preview site: an index and one self-contained page per dashboard, as {relative path: HTML}.

Pages are rendered with Jinja2 and autoescaping on: every value from a dashboard is text. The stylesheet is
inlined and nothing is loaded from anywhere (no scripts at all: `<details>` opens queries and links).
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from ..artifacts import Artifacts
from ..errors import DefinitionError, UsageError
from .model import Dashboard, Page, Site, build_page

INDEX = "index.html"
# A preview site carries this file; `--out` only ever replaces a directory that has it (or is empty).
MARKER = ".lgtm-dash-preview"


@dataclass
class SiteInput:
    dashboards: list[Dashboard]
    datasources: list[Mapping[str, Any]] = field(default_factory=list)
    folders: list[Mapping[str, Any]] = field(default_factory=list)
    title: str = "lgtm-dash preview"


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("lgtm_dash.preview", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def from_artifacts(arts: Artifacts) -> SiteInput:
    """The dashboards of a built out/ tree."""
    from ..source import display_path

    titles = {str(f.get("uid")): str(f.get("title") or f.get("uid")) for f in arts.folders if f.get("uid")}
    dashboards = [
        Dashboard(
            uid=d.uid,
            folder_uid=d.folder_uid,
            folder_title=titles.get(d.folder_uid, d.folder_uid),
            data=d.data,
            file=display_path(d.path),
            source=arts.sourcemap.get(f"dashboard:{d.uid}"),
        )
        for d in arts.dashboards
    ]
    title = f"lgtm-dash preview ({arts.env})" if arts.env else "lgtm-dash preview"
    return SiteInput(dashboards, list(arts.datasources), list(arts.folders), title)


def from_files(paths: Sequence[Path], *, strict: bool = True) -> SiteInput:
    """Loose dashboard JSON files (Grafana's classic model, an API export, or a legacy `rows` dashboard).

    With `strict`, a file that is not a dashboard is bad input; otherwise (a directory's files) it is skipped.
    """
    from ..artifacts import read_json_file
    from ..source import display_path

    dashboards = []
    for path in paths:
        data = read_json_file(path)
        if isinstance(data, Mapping) and isinstance(data.get("dashboard"), Mapping) and "panels" not in data:
            data = data["dashboard"]  # an API export: {"dashboard": ..., "meta": ...}
        if not isinstance(data, Mapping) or not any(k in data for k in ("panels", "rows")):
            if isinstance(data, Mapping) and isinstance(data.get("spec"), Mapping):
                message = "a v2 (Kubernetes-style) dashboard: preview draws Grafana's classic JSON model only"
            else:
                message = "not a Grafana dashboard (no panels or rows)"
            if strict:
                raise DefinitionError(message, f"{display_path(path)}:1")
            continue
        uid = data.get("uid")
        uid = uid if isinstance(uid, str) and uid else path.stem
        folder = path.resolve().parent.name  # loose files are grouped by the directory holding them
        dashboards.append(
            Dashboard(uid=uid, folder_uid=folder, folder_title=folder, data=data, file=display_path(path))
        )
    return SiteInput(dashboards)


def merge(inputs: Sequence[SiteInput]) -> SiteInput:
    if len(inputs) == 1:
        return inputs[0]
    merged = SiteInput([], title="lgtm-dash preview")
    for part in inputs:
        merged.dashboards += part.dashboards
        merged.datasources += part.datasources
        merged.folders += part.folders
    return merged


def select(site_input: SiteInput, uids: Sequence[str], *others: SiteInput) -> SiteInput:
    """Only the dashboards with these UIDs (all when none are given); a UID found nowhere is a usage error."""
    if not uids:
        return site_input
    known = {d.uid for part in (site_input, *others) for d in part.dashboards}
    unknown = [uid for uid in uids if uid not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise UsageError(f"no dashboard with uid {', '.join(map(repr, unknown))} (known: {listed})")
    chosen = [d for d in site_input.dashboards if d.uid in uids]
    return SiteInput(chosen, site_input.datasources, site_input.folders, site_input.title)


def render_site(site_input: SiteInput) -> dict[str, str]:
    """{relative path: HTML} for the index and every dashboard page."""
    site = Site(site_input.dashboards, site_input.datasources)
    pages: list[tuple[str, Page]] = []
    files: dict[str, str] = {MARKER: "a site written by `lgtm-dash preview`\n"}
    for dash in site_input.dashboards:
        path = site.page_path(dash)
        page = build_page(dash, site)
        pages.append((path, page))
        files[path] = render(
            "dashboard.html.j2", page=page, up="../" * path.count("/"), site_title=site_input.title
        )
    order = [str(f.get("uid")) for f in site_input.folders]
    by_folder: dict[str, list[tuple[str, Page]]] = {}
    for path, page in sorted(pages, key=lambda p: p[1].dashboard.title.lower()):
        by_folder.setdefault(page.dashboard.folder_uid, []).append((path, page))
    folders = [
        (folder_pages[0][1].dashboard.folder_title, folder_pages)
        for _, folder_pages in sorted(
            by_folder.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0])
        )
    ]
    files[INDEX] = render(
        "index.html.j2", pages=pages, folders=folders, site_title=site_input.title, subtitle=""
    )
    return files


def render_error(message: str, title: str = "lgtm-dash preview") -> str:
    return render("error.html.j2", message=message, site_title=title)


def write_site(files: Mapping[str, str], out_dir: Path) -> None:
    """Write the site into a sibling temporary directory, then swap it in: never half a site."""
    out_dir = out_dir.resolve()
    if out_dir.exists() and (
        not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / MARKER).exists())
    ):
        raise UsageError(f"{out_dir} exists and is not a preview site: give an empty or new directory")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.preview-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a site is for reading
    try:
        for rel, text in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if out_dir.exists():
            old = staging.with_name(staging.name + "-old")
            out_dir.rename(old)
            staging.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def render_comparison(before: SiteInput, after: SiteInput, base: str) -> dict[str, str]:
    """Two sites, before/ and after/, under an index of what changed between them."""
    files = {MARKER: "a site written by `lgtm-dash preview --base`\n"}
    for side, site_input in (("before", before), ("after", after)):
        files.update(
            {f"{side}/{rel}": html for rel, html in render_site(site_input).items() if rel != MARKER}
        )
    old = {d.uid: d for d in before.dashboards}
    new = {d.uid: d for d in after.dashboards}
    old_paths = Site(before.dashboards, []).paths
    new_paths = Site(after.dashboards, []).paths
    rows: list[dict[str, Any]] = []
    for uid in old.keys() | new.keys():
        a, b = old.get(uid), new.get(uid)
        status = (
            "added"
            if a is None
            else "removed"
            if b is None
            else "changed"
            if a.data != b.data
            else "unchanged"
        )
        rows.append(
            {
                "uid": uid,
                "title": (b or old[uid]).title,  # one side at least has it
                "status": status,
                "before": old_paths.get(uid),
                "after": new_paths.get(uid),
            }
        )
    rows.sort(key=lambda r: (r["status"] == "unchanged", r["title"].lower(), r["uid"]))
    files[INDEX] = render(
        "compare.html.j2", rows=rows, base=base, site_title="lgtm-dash preview: before and after"
    )
    return files
