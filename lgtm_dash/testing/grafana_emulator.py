"""A stateful in-process emulator of the Grafana HTTP API subset lgtm-dash publishes through.

It implements ``docs/server-contract.md``: every behaviour there (status, body shape, fields added,
dropped or rewritten) is read in grafana/grafana's source and cited in that table, and
``tests/test_server_contract.py`` walks the table against this emulator. Where Grafana releases differ
the emulator is started as one of them: ``GrafanaEmulator(version="11" | "12" | "13")``:

- 11: the legacy SQL store. The versions list is a bare JSON array; a stale save answers 412.
- 12: dashboards over the Kubernetes-style store behind the legacy API. The versions list is
  ``{"continueToken", "versions"}``; a stale save answers 412; a dashboard stored as schema v2 answers
  406 on ``GET /api/dashboards/uid/:uid``.
- 13: the newest code read: a legacy save without the current version (or with a stale one) answers 409
  "Dashboard already exists. Use overwrite flag to update.".

Organisation 1 only; nested folders on. Endpoints: ``GET /api/health``, ``GET /api/frontend/settings``,
``GET /api/user``, datasources (list, by uid/name/id, create, update by uid, delete by uid/name), folders
(create, get, list children, update, move, delete, descendant counts), dashboards (save, get by uid,
delete by uid, version list and single version) and ``GET /api/search``. Library panels and
Grafana-managed alert rules exist only as counts per folder (seeded), for what a folder delete takes along.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from .faults import HTTPEmulator, Request, Response, Route, match_route

__all__ = ["GrafanaEmulator", "StoredDashboard", "StoredFolder"]

UID_PATTERN = re.compile(r"^[a-zA-Z0-9\-_]*$")
MAX_UID_LENGTH = 40
MAX_TITLE_LENGTH = 5000
MAX_MESSAGE_LENGTH = 500
GENERAL_FOLDER_UID = "general"
SEARCH_DEFAULT_LIMIT = 1000
SEARCH_MAX_LIMIT = 5000
DATASOURCE_LIST_LIMIT = 5000

# Fields of a `GET /api/datasources` list item (no secureJsonFields, no version).
_DS_LIST_KEYS = (
    "id",
    "uid",
    "orgId",
    "name",
    "type",
    "typeLogoUrl",
    "access",
    "url",
    "user",
    "database",
    "basicAuth",
    "isDefault",
    "jsonData",
    "readOnly",
)

# Grafana releases the emulator can be started as (see the module docstring).
VERSIONS = ("11", "12", "13")
DEFAULT_VERSION = "12"
VERSION_MISMATCH = "The dashboard has been changed by someone else"
ALREADY_EXISTS = "Dashboard already exists. Use overwrite flag to update."
LIBRARY_PANELS_IN_USE = "Folder could not be deleted because it contains library elements in use"

# Types whose `url` is "host:port" without a scheme.
_SQL_TYPES = {"mysql", "postgres", "grafana-postgresql-datasource", "mssql"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(title: str) -> str:
    """Grafana-like slug: lower-case, runs of non-alphanumerics become one ``-``, trimmed."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug


def _generate_uid() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(14))


def _as_int(value: Any) -> int:
    """How Go's simplejson ``MustInt`` reads a number: missing/null/non-numeric → 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return 0


_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$")
_DURATION_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def _refresh_seconds(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    m = _DURATION_RE.match(value.strip())
    if not m:
        return None
    return float(m.group(1)) * _DURATION_UNIT[m.group(2)]


class _ApiError(Exception):
    def __init__(self, status: int, payload: dict[str, Any]):
        super().__init__(payload.get("message", ""))
        self.status = status
        self.payload = payload


def _err(status: int, message: str, status_text: str | None = None, **extra: Any) -> _ApiError:
    payload: dict[str, Any] = {}
    if status_text is not None:
        payload["status"] = status_text
    payload["message"] = message
    payload.update(extra)
    return _ApiError(status, payload)


@dataclass
class StoredFolder:
    """A folder as the emulator stores it. ``parent_uid`` is ``""`` for a top-level folder."""

    id: int
    uid: str
    title: str
    parent_uid: str = ""
    description: str = ""
    version: int = 1
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    created_by: str = "admin"
    updated_by: str = "admin"
    library_panels_in_use: bool = False
    library_panels: int = 0  # library elements stored in the folder (seeded)
    alert_rules: int = 0  # Grafana-managed alert rules stored in the folder (seeded)


@dataclass
class StoredDashboard:
    """A dashboard as the emulator stores it.

    ``dashboard`` is the stored JSON (with ``id``, ``uid``, ``title`` and ``version`` set by the server);
    ``folder_uid`` is ``""`` for the General folder; ``versions`` is the ``dashboard_version`` history,
    oldest first, each row ``{id, dashboardId, uid, parentVersion, restoredFrom, version, created,
    createdBy, message, data}``.
    """

    id: int
    uid: str
    dashboard: dict[str, Any]
    folder_uid: str
    version: int
    created: str
    updated: str
    created_by: str
    updated_by: str
    provisioned: bool = False
    allow_ui_updates: bool = False
    provisioned_external_id: str = ""
    plugin_id: str = ""
    api_version: str = ""  # "v2..." for a dashboard stored as schema v2 (Grafana 12+)
    versions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.dashboard.get("title", "")

    @property
    def tags(self) -> list[str]:
        tags = self.dashboard.get("tags") or []
        return [t for t in tags if isinstance(t, str)]


@dataclass
class _Identity:
    login: str
    can_write: bool


class GrafanaEmulator(HTTPEmulator):
    """In-process Grafana (org 1) speaking real HTTP.

    Args:
        tokens: service-account tokens with Editor/Admin rights. An iterable of token strings (login
            ``"sa-publisher"``) or a mapping ``{token: login}``.
        basic_auth: ``{(user, password)}`` pairs with Admin rights (default ``{("admin", "admin")}``).
        viewer_tokens: read-only (Viewer) tokens, same forms as ``tokens``: writes get 403.
        viewer_basic_auth: read-only ``(user, password)`` pairs.
        version: the Grafana release to answer as, "11", "12" or "13" (a full version such as "12.1.0" is
            accepted; its major part decides); reported by ``/api/health`` and ``/api/frontend/settings``.
        max_folder_depth: deepest allowed folder nesting (top-level folder = depth 1; default 4).
        min_refresh_interval: dashboards with a lower ``refresh`` get 400 (seconds; default 5).
        dashboard_quota, datasource_quota: creating one more than this answers 403 (None: no quota).
        port: serve on this port (0: an ephemeral one).
    """

    def __init__(
        self,
        tokens: Iterable[str] | Mapping[str, str] | None = None,
        basic_auth: Iterable[tuple[str, str]] | tuple[str, str] | None = None,
        *,
        viewer_tokens: Iterable[str] | Mapping[str, str] | None = None,
        viewer_basic_auth: Iterable[tuple[str, str]] | tuple[str, str] | None = None,
        version: str = DEFAULT_VERSION,
        max_folder_depth: int = 4,
        min_refresh_interval: float = 5.0,
        dashboard_quota: int | None = None,
        datasource_quota: int | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        major = str(version).split(".")[0]
        if major not in VERSIONS:
            raise ValueError(f"GrafanaEmulator answers as Grafana {', '.join(VERSIONS)}, not {version!r}")
        self.major = int(major)
        self._tokens: dict[str, _Identity] = {}
        for src, can_write in ((tokens, True), (viewer_tokens, False)):
            if src is None:
                continue
            if isinstance(src, str):
                src = {src}
            items = src.items() if isinstance(src, Mapping) else ((t, "sa-publisher") for t in src)
            for token, login in items:
                self._tokens[token] = _Identity(login, can_write)
        self._basic: dict[tuple[str, str], _Identity] = {}
        for user, password in _pairs({("admin", "admin")} if basic_auth is None else basic_auth):
            self._basic[(user, password)] = _Identity(user, True)
        for user, password in _pairs(viewer_basic_auth or ()):
            self._basic[(user, password)] = _Identity(user, False)
        self.grafana_version = version if "." in str(version) else f"{major}.0.0"
        self.max_folder_depth = max_folder_depth
        self.min_refresh_interval = min_refresh_interval
        self.dashboard_quota = dashboard_quota
        self.datasource_quota = datasource_quota
        self.database_down = False  # set True to make /api/health answer 503 {"database": "failing"}
        self.hide_version = False  # like [auth.anonymous] hide_version: /api/health omits version/commit

        self.dashboards: dict[str, StoredDashboard] = {}
        self.folders: dict[str, StoredFolder] = {}
        self.datasources: dict[str, dict[str, Any]] = {}  # uid -> DTO as GET returns it (no secrets)
        self._ds_secrets: dict[str, dict[str, str]] = {}
        self._next_id = 1  # shared by dashboards and folders (one table in Grafana)
        self._next_ds_id = 1
        self._next_version_id = 1
        self._routes: list[Route] = self._build_routes()

    # ================================================================================ test helpers

    def datasource_secrets(self, uid: str) -> dict[str, str]:
        """The decrypted ``secureJsonData`` stored for a datasource (never returned over HTTP)."""
        with self.lock:
            return dict(self._ds_secrets[uid])

    def add_datasource(
        self,
        name: str,
        type: str,
        uid: str | None = None,
        *,
        url: str = "",
        access: str = "proxy",
        json_data: dict[str, Any] | None = None,
        secure_json_data: dict[str, str] | None = None,
        read_only: bool = False,
        is_default: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """Seed a datasource directly (e.g. a provisioned one with ``read_only=True``). Returns its DTO.

        Extra keyword arguments are API field names (``user``, ``database``, ``basicAuth``, …).
        """
        body = {
            "name": name,
            "type": type,
            "uid": uid or "",
            "url": url,
            "access": access,
            "isDefault": is_default,
            "jsonData": json_data or {},
            "secureJsonData": secure_json_data or {},
            **fields,
        }
        with self.lock:
            dto = self._create_datasource(body)
            dto["readOnly"] = read_only
            return copy.deepcopy(dto)

    def ui_edit_datasource(self, uid: str, mutate: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        """Simulate a person changing a datasource in the UI: ``mutate`` edits the DTO; version +1."""
        with self.lock:
            dto = copy.deepcopy(self.datasources[uid])
            result = mutate(dto)
            if isinstance(result, dict):
                dto = result
            dto["uid"] = uid
            dto["version"] = self.datasources[uid]["version"] + 1
            self.datasources[uid] = dto
            return copy.deepcopy(dto)

    def seed_folder(
        self, uid: str, title: str, parent_uid: str | None = None, *, user: str = "admin"
    ) -> StoredFolder:
        """Create a folder directly (no validation beyond the parent existing)."""
        with self.lock:
            if parent_uid and parent_uid not in self.folders:
                raise KeyError(f"parent folder {parent_uid!r} does not exist")
            folder = StoredFolder(
                id=self._take_id(),
                uid=uid,
                title=title,
                parent_uid=parent_uid or "",
                created_by=user,
                updated_by=user,
            )
            self.folders[uid] = folder
            return folder

    def connect_library_panel(self, folder_uid: str) -> None:
        """Mark a folder as holding a library panel some dashboard uses (its deletion is refused)."""
        with self.lock:
            folder = self.folders[folder_uid]
            folder.library_panels_in_use = True
            folder.library_panels = max(1, folder.library_panels)

    def seed_library_panel(self, folder_uid: str) -> None:
        """Store one library panel no dashboard uses in a folder (a folder delete deletes it along)."""
        with self.lock:
            self.folders[folder_uid].library_panels += 1

    def seed_alert_rule(self, folder_uid: str) -> None:
        """Store one Grafana-managed alert rule in a folder (a folder delete is refused without
        ``forceDeleteRules``)."""
        with self.lock:
            self.folders[folder_uid].alert_rules += 1

    def ui_edit_folder(
        self, uid: str, *, title: str | None = None, parent_uid: str | None = None, user: str = "alice"
    ) -> StoredFolder:
        """Simulate a person renaming or moving a folder in the UI (version +1, ``updatedBy`` = user)."""
        with self.lock:
            folder = self.folders[uid]
            if title is not None:
                folder.title = title
            if parent_uid is not None:
                folder.parent_uid = parent_uid
            folder.version += 1
            folder.updated = _now()
            folder.updated_by = user
            return folder

    def seed_dashboard(
        self,
        dashboard: dict[str, Any],
        folder_uid: str = "",
        *,
        user: str = "admin",
        message: str = "",
        provisioned: bool = False,
        allow_ui_updates: bool = False,
        plugin_id: str = "",
        api_version: str = "",
    ) -> StoredDashboard:
        """Store a dashboard directly (version 1, or +1 if the uid exists), e.g. a provisioned one.

        ``api_version="v2beta1"`` stores it as a schema v2 dashboard (converted in the UI), which the legacy
        API cannot return (Grafana 12+ only).
        """
        if api_version and self.major < 12:
            raise ValueError("schema v2 dashboards exist from Grafana 12")
        with self.lock:
            data = copy.deepcopy(dashboard)
            uid = (data.get("uid") or "").strip() or _generate_uid()
            data["uid"] = uid
            data["title"] = (data.get("title") or "").strip()
            if folder_uid and folder_uid not in self.folders:
                raise KeyError(f"folder {folder_uid!r} does not exist")
            existing = self.dashboards.get(uid)
            stored = self._store_dashboard(data, folder_uid, existing, user, message)
            stored.provisioned = provisioned
            stored.allow_ui_updates = allow_ui_updates
            stored.plugin_id = plugin_id
            stored.api_version = api_version
            if provisioned:
                stored.provisioned_external_id = f"{uid}.json"
            return stored

    def ui_edit(
        self,
        uid: str,
        mutate: Callable[[dict[str, Any]], Any] | None = None,
        user: str = "alice",
        *,
        message: str = "",
        folder_uid: str | None = None,
    ) -> StoredDashboard:
        """Simulate a person saving a change in the UI.

        ``mutate`` receives a copy of the stored dashboard JSON and edits it in place (or returns a new
        dict). The save bumps the version, sets ``updatedBy`` to ``user`` and adds a history row.
        ``folder_uid`` moves the dashboard (default: stays where it is).
        """
        with self.lock:
            existing = self.dashboards[uid]
            data = copy.deepcopy(existing.dashboard)
            if mutate is not None:
                result = mutate(data)
                if isinstance(result, dict):
                    data = result
            data["uid"] = uid
            target = existing.folder_uid if folder_uid is None else folder_uid
            return self._store_dashboard(data, target, existing, user, message)

    def dashboard_versions(self, uid: str) -> list[dict[str, Any]]:
        """The stored history rows of a dashboard, oldest first (copies)."""
        with self.lock:
            return copy.deepcopy(self.dashboards[uid].versions)

    # ================================================================================ dispatch

    def _build_routes(self) -> list[Route]:
        return [
            ("GET", ("api", "health"), self._health),
            ("GET", ("api", "frontend", "settings"), self._frontend_settings),
            ("GET", ("api", "user"), self._signed_in_user),
            # datasources
            ("GET", ("api", "datasources"), self._ds_list),
            ("POST", ("api", "datasources"), self._ds_create),
            ("GET", ("api", "datasources", "uid", "{}"), self._ds_get_uid),
            ("PUT", ("api", "datasources", "uid", "{}"), self._ds_update_uid),
            ("DELETE", ("api", "datasources", "uid", "{}"), self._ds_delete_uid),
            ("GET", ("api", "datasources", "name", "{}"), self._ds_get_name),
            ("DELETE", ("api", "datasources", "name", "{}"), self._ds_delete_name),
            ("GET", ("api", "datasources", "{}"), self._ds_get_id),
            # folders
            ("GET", ("api", "folders"), self._folder_list),
            ("POST", ("api", "folders"), self._folder_create),
            ("GET", ("api", "folders", "{}"), self._folder_get),
            ("PUT", ("api", "folders", "{}"), self._folder_update),
            ("DELETE", ("api", "folders", "{}"), self._folder_delete),
            ("POST", ("api", "folders", "{}", "move"), self._folder_move),
            ("GET", ("api", "folders", "{}", "counts"), self._folder_counts),
            # dashboards
            ("POST", ("api", "dashboards", "db"), self._dash_save),
            ("GET", ("api", "dashboards", "uid", "{}"), self._dash_get),
            ("DELETE", ("api", "dashboards", "uid", "{}"), self._dash_delete),
            ("GET", ("api", "dashboards", "uid", "{}", "versions"), self._dash_versions),
            ("GET", ("api", "dashboards", "uid", "{}", "versions", "{}"), self._dash_version),
            ("GET", ("api", "search"), self._search),
        ]

    _PUBLIC: ClassVar[frozenset[tuple[str, ...]]] = frozenset(
        {("api", "health"), ("api", "frontend", "settings")}
    )

    def handle(self, request: Request) -> Response:
        segments = request.segments
        if segments and segments[-1] == "" and len(segments) > 1:
            segments = segments[:-1]  # Grafana's router ignores a trailing slash
        handler, captured, path_known = match_route(self._routes, request.method, segments)
        if handler is None:
            if path_known:
                return Response.json(405, {"message": "Method Not Allowed"})
            return Response.json(404, {"message": "Not found"})
        identity: _Identity | None = None
        if tuple(segments) not in self._PUBLIC:
            identity = self._authenticate(request)
            if identity is None:
                return Response.json(401, {"message": "Unauthorized"})
        try:
            return handler(request, identity, *captured)
        except _ApiError as e:
            return Response.json(e.status, e.payload)

    def _authenticate(self, request: Request) -> _Identity | None:
        header = request.header("authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return self._tokens.get(value.strip())
        if scheme.lower() == "basic":
            import base64
            import binascii

            try:
                user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self._basic.get((user, password))
        return None

    @staticmethod
    def _require_write(identity: _Identity | None, message: str = "Access denied") -> None:
        if identity is None or not identity.can_write:
            raise _err(403, message)

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError:
            raise _err(400, "bad request data") from None
        if not isinstance(body, dict):
            raise _err(400, "bad request data")
        return body

    def _take_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    # ================================================================================ health

    def _health(self, request: Request, identity: _Identity | None) -> Response:
        body: dict[str, Any] = {"database": "failing" if self.database_down else "ok"}
        if not self.hide_version:
            body["version"] = self.grafana_version
            body["commit"] = "emulator"
        return Response.json(503 if self.database_down else 200, body)

    def _signed_in_user(self, request: Request, identity: _Identity | None) -> Response:
        """``GET /api/user`` (row G-USER): the signed-in identity's profile; its ``login`` is what
        ``updatedBy``/``createdBy`` show for what it saves."""
        assert identity is not None
        return Response.json(
            200,
            {
                "id": 0,
                "uid": "",
                "email": "",
                "name": identity.login,
                "login": identity.login,
                "orgId": 1,
                "isGrafanaAdmin": False,
            },
        )

    def _frontend_settings(self, request: Request, identity: _Identity | None) -> Response:
        build = {
            "version": self.grafana_version,
            "commit": "emulator",
            "edition": "Open Source",
            "env": "production",
        }
        return Response.json(
            200, {"buildInfo": build, "appSubUrl": "", "featureToggles": {"nestedFolders": True}}
        )

    # ================================================================================ datasources

    def _ds_public(self, dto: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(dto)
        out["secureJsonFields"] = {k: True for k in sorted(self._ds_secrets.get(dto["uid"], {}))}
        return out

    def _ds_list_item(self, dto: dict[str, Any]) -> dict[str, Any]:
        keys = _DS_LIST_KEYS
        item = {k: copy.deepcopy(dto.get(k)) for k in keys}
        item["typeName"] = dto["type"]
        return item

    def _ds_find(self, key: str, by: str) -> dict[str, Any]:
        if by == "uid":
            dto = self.datasources.get(key)
        elif by == "name":
            dto = next((d for d in self.datasources.values() if d["name"] == key), None)
        else:
            dto = next((d for d in self.datasources.values() if str(d["id"]) == key), None)
        if dto is None:
            raise _err(404, "Data source not found")
        return dto

    @staticmethod
    def _validate_ds_url(ds_type: str, url: Any) -> None:
        if not isinstance(url, str):
            raise _err(400, "bad request data")
        if url == "" or ds_type in _SQL_TYPES:
            return
        # Go's url.Parse rejects control characters, spaces in the host and bad percent-escapes.
        if any(ord(c) < 0x20 or c == "\x7f" for c in url) or re.search(r"%(?![0-9A-Fa-f]{2})", url):
            raise _err(400, "Validation error, invalid URL")
        host = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", url).split("/", 1)[0]
        if " " in host:
            raise _err(400, "Validation error, invalid URL")

    def _normalise_ds_body(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        ds_type = body.get("type")
        if not isinstance(name, str) or not name.strip() or not isinstance(ds_type, str) or not ds_type:
            raise _err(400, "bad request data")
        json_data = body.get("jsonData")
        if json_data is None:
            json_data = {}
        secure = body.get("secureJsonData") or {}
        if not isinstance(json_data, dict) or not isinstance(secure, dict):
            raise _err(400, "bad request data")
        if any(not isinstance(v, str) for v in secure.values()):
            raise _err(400, "bad request data")
        url = body.get("url", "")
        self._validate_ds_url(ds_type, url if url is not None else "")
        return {
            "name": name,
            "type": ds_type,
            "typeLogoUrl": f"public/app/plugins/datasource/{ds_type}/img/logo.svg",
            "access": body.get("access") or "proxy",
            "url": url or "",
            "user": body.get("user") or "",
            "database": body.get("database") or "",
            "basicAuth": bool(body.get("basicAuth", False)),
            "basicAuthUser": body.get("basicAuthUser") or "",
            "withCredentials": bool(body.get("withCredentials", False)),
            "isDefault": bool(body.get("isDefault", False)),
            "jsonData": copy.deepcopy(json_data),
            "_secure": dict(secure),
        }

    def _create_datasource(self, body: dict[str, Any]) -> dict[str, Any]:
        fields = self._normalise_ds_body(body)
        uid = body.get("uid") or ""
        if not isinstance(uid, str):
            raise _err(400, "bad request data")
        if any(d["name"] == fields["name"] for d in self.datasources.values()):
            raise _err(409, "data source with the same name already exists")
        if uid and uid in self.datasources:
            raise _err(409, "data source with the same uid already exists")
        uid = uid or _generate_uid()
        secure = fields.pop("_secure")
        dto = {
            "id": self._next_ds_id,
            "uid": uid,
            "orgId": 1,
            **fields,
            "version": 1,
            "readOnly": False,
            "apiVersion": "",
        }
        self._next_ds_id += 1
        if dto["isDefault"]:
            for other in self.datasources.values():
                other["isDefault"] = False
        self.datasources[uid] = dto
        self._ds_secrets[uid] = secure
        return dto

    def _ds_list(self, request: Request, identity: _Identity | None) -> Response:
        items = sorted(self.datasources.values(), key=lambda d: d["name"].lower())[:DATASOURCE_LIST_LIMIT]
        return Response.json(200, [self._ds_list_item(d) for d in items])

    def _ds_get_uid(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        return Response.json(200, self._ds_public(self._ds_find(uid, "uid")))

    def _ds_get_name(self, request: Request, identity: _Identity | None, name: str) -> Response:
        return Response.json(200, self._ds_public(self._ds_find(name, "name")))

    def _ds_get_id(self, request: Request, identity: _Identity | None, ds_id: str) -> Response:
        return Response.json(200, self._ds_public(self._ds_find(ds_id, "id")))

    def _ds_create(self, request: Request, identity: _Identity | None) -> Response:
        self._require_write(identity)
        if self.datasource_quota is not None and len(self.datasources) >= self.datasource_quota:
            raise _err(403, "data_source Quota reached")
        dto = self._create_datasource(self._body(request))
        public = self._ds_public(dto)
        return Response.json(
            200, {"message": "Datasource added", "id": dto["id"], "name": dto["name"], "datasource": public}
        )

    def _ds_update_uid(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        self._require_write(identity)
        stored = self._ds_find(uid, "uid")
        body = self._body(request)
        if stored["readOnly"]:
            raise _err(403, "Cannot update read-only data source")
        fields = self._normalise_ds_body(body)
        if any(d["name"] == fields["name"] and d["uid"] != uid for d in self.datasources.values()):
            raise _err(409, "Failed to update datasource: data source with the same name already exists")
        cmd_version = _as_int(body.get("version"))
        # Stored version becomes cmd.version + 1; with a version given, the row is only updated where the
        # stored version is lower than that (so a stale version changes nothing → conflict).
        if cmd_version != 0 and not stored["version"] < cmd_version + 1:
            raise _err(
                409, "Datasource has already been updated by someone else. Please reload and try again"
            )
        secure = dict(self._ds_secrets.get(uid, {}))
        secure.update(fields.pop("_secure"))  # keys left out are kept
        dto = {
            "id": stored["id"],
            "uid": uid,
            "orgId": 1,
            **fields,
            "version": cmd_version + 1,
            "readOnly": False,
            "apiVersion": stored.get("apiVersion", ""),
        }
        if dto["isDefault"]:
            for other in self.datasources.values():
                other["isDefault"] = False
        self.datasources[uid] = dto
        self._ds_secrets[uid] = secure
        return Response.json(
            200,
            {
                "message": "Datasource updated",
                "id": dto["id"],
                "name": dto["name"],
                "datasource": self._ds_public(dto),
            },
        )

    def _ds_delete(self, identity: _Identity | None, dto: dict[str, Any]) -> Response:
        self._require_write(identity)
        if dto["readOnly"]:
            raise _err(403, "Cannot delete read-only data source")
        del self.datasources[dto["uid"]]
        self._ds_secrets.pop(dto["uid"], None)
        return Response.json(200, {"message": "Data source deleted", "id": dto["id"]})

    def _ds_delete_uid(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        return self._ds_delete(identity, self._ds_find(uid, "uid"))

    def _ds_delete_name(self, request: Request, identity: _Identity | None, name: str) -> Response:
        return self._ds_delete(identity, self._ds_find(name, "name"))

    # ================================================================================ folders

    def _folder_chain(self, uid: str) -> list[StoredFolder]:
        """Ancestors of folder ``uid`` from the root down, excluding itself."""
        chain: list[StoredFolder] = []
        parent = self.folders[uid].parent_uid
        while parent:
            folder = self.folders[parent]
            chain.append(folder)
            parent = folder.parent_uid
        chain.reverse()
        return chain

    def _folder_url(self, folder: StoredFolder) -> str:
        return f"/dashboards/f/{folder.uid}/{slugify(folder.title)}"

    def _folder_dto(self, folder: StoredFolder, identity: _Identity | None, with_parents: bool = True):
        can_write = identity is None or identity.can_write
        dto: dict[str, Any] = {
            "id": folder.id,
            "uid": folder.uid,
            "orgId": 1,
            "title": folder.title,
            "url": self._folder_url(folder),
            "hasAcl": False,
            "canSave": can_write,
            "canEdit": can_write,
            "canAdmin": can_write,
            "canDelete": can_write,
            "createdBy": folder.created_by,
            "created": folder.created,
            "updatedBy": folder.updated_by,
            "updated": folder.updated,
            "version": folder.version,
        }
        # No description: Grafana stores it but its folder DTO has no such field.
        if folder.parent_uid:
            dto["parentUid"] = folder.parent_uid
            if with_parents:
                dto["parents"] = [
                    self._folder_dto(p, identity, with_parents=False) for p in self._folder_chain(folder.uid)
                ]
        return dto

    def _folder_depth(self, uid: str) -> int:
        return len(self._folder_chain(uid)) + 1

    @staticmethod
    def _validate_uid(uid: str) -> None:
        if not UID_PATTERN.match(uid):
            raise _err(400, "uid contains illegal characters")
        if len(uid) > MAX_UID_LENGTH:
            raise _err(400, "uid too long, max 40 characters")

    def _folder_get_or_404(self, uid: str) -> StoredFolder:
        folder = self.folders.get(uid)
        if folder is None:
            raise _err(404, "folder not found", "not-found")
        return folder

    def _folder_create(self, request: Request, identity: _Identity | None) -> Response:
        self._require_write(identity)
        body = self._body(request)
        title = body.get("title")
        uid = body.get("uid") or ""
        parent_uid = body.get("parentUid") or ""
        if not isinstance(title, str) or not isinstance(uid, str) or not isinstance(parent_uid, str):
            raise _err(400, "bad request data")
        title = title.strip()
        uid = uid.strip()
        if not title:
            raise _err(400, "folder title cannot be empty")
        if uid == GENERAL_FOLDER_UID:
            raise _err(400, "invalid uid for folder provided")
        self._validate_uid(uid)
        if uid and (uid in self.folders or uid in self.dashboards):
            raise _err(409, "a folder/dashboard with the same uid already exists")
        if parent_uid:
            self._folder_get_or_404(parent_uid)
            if self._folder_depth(parent_uid) + 1 > self.max_folder_depth:
                raise _err(
                    400,
                    "Maximum nested folder depth reached",
                    messageId="folder.maximum-depth-reached",
                    statusCode=400,
                )
        login = identity.login if identity else "admin"
        folder = StoredFolder(
            id=self._take_id(),
            uid=uid or _generate_uid(),
            title=title,
            parent_uid=parent_uid,
            description=body.get("description") or "",
            created_by=login,
            updated_by=login,
        )
        self.folders[folder.uid] = folder
        return Response.json(200, self._folder_dto(folder, identity))

    def _folder_get(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        return Response.json(200, self._folder_dto(self._folder_get_or_404(uid), identity))

    def _folder_list(self, request: Request, identity: _Identity | None) -> Response:
        parent = request.param("parentUid") or ""
        if parent == GENERAL_FOLDER_UID:
            parent = ""
        limit = _query_int(request, "limit", 1000)
        page = max(_query_int(request, "page", 1), 1)
        children = sorted(
            (f for f in self.folders.values() if f.parent_uid == parent),
            key=lambda f: (f.title.lower(), f.uid),
        )
        if limit > 0:
            children = children[(page - 1) * limit : page * limit]
        hits = []
        for f in children:
            hit: dict[str, Any] = {"id": f.id, "uid": f.uid, "title": f.title}
            if f.parent_uid:
                hit["parentUid"] = f.parent_uid
            hits.append(hit)
        return Response.json(200, hits)

    def _folder_update(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        self._require_write(identity)
        folder = self._folder_get_or_404(uid)
        body = self._body(request)
        overwrite = bool(body.get("overwrite", False))
        version = _as_int(body.get("version"))
        if not overwrite and version != folder.version:
            raise _err(412, "the folder has been changed by someone else", "version-mismatch")
        if "title" in body and body["title"] is not None:
            title = body["title"]
            if not isinstance(title, str) or not title.strip():
                raise _err(400, "folder title cannot be empty")
            folder.title = title.strip()
        if isinstance(body.get("description"), str):
            folder.description = body["description"]
        folder.version += 1
        folder.updated = _now()
        folder.updated_by = identity.login if identity else "admin"
        return Response.json(200, self._folder_dto(folder, identity))

    def _folder_move(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        self._require_write(identity)
        folder = self._folder_get_or_404(uid)
        body = self._body(request)
        parent = body.get("parentUid") or ""
        if not isinstance(parent, str):
            raise _err(400, "bad request data")
        if parent:
            self._folder_get_or_404(parent)
            if parent == uid or uid in {f.uid for f in self._folder_chain(parent)}:
                raise _err(400, "failed to move folder: circular reference detected")
            if self._folder_depth(parent) + self._subtree_height(uid) > self.max_folder_depth:
                raise _err(
                    400,
                    "Maximum nested folder depth reached",
                    messageId="folder.maximum-depth-reached",
                    statusCode=400,
                )
        folder.parent_uid = parent
        folder.version += 1
        folder.updated = _now()
        folder.updated_by = identity.login if identity else "admin"  # legacyUpdate → prepareForUpdate
        return Response.json(200, self._folder_dto(folder, identity))

    def _subtree_height(self, uid: str) -> int:
        children = [f.uid for f in self.folders.values() if f.parent_uid == uid]
        return 1 + max((self._subtree_height(c) for c in children), default=0)

    def _descendants(self, uid: str) -> list[str]:
        """The folders below ``uid``, at any depth."""
        found: list[str] = []
        pending = [uid]
        while pending:
            parent = pending.pop()
            children = [f.uid for f in self.folders.values() if f.parent_uid == parent]
            found += children
            pending += children
        return found

    def _folder_counts(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        """``GET /api/folders/:uid/counts`` (row G-FOLDER-COUNTS): the folder and its descendants."""
        self._folder_get_or_404(uid)
        below = self._descendants(uid)
        scope = {uid, *below}
        return Response.json(
            200,
            {
                "folder": len(below),
                "dashboard": sum(1 for d in self.dashboards.values() if d.folder_uid in scope),
                "librarypanel": sum(self.folders[f].library_panels for f in scope),
                "alertrule": sum(self.folders[f].alert_rules for f in scope),
            },
        )

    def _folder_delete(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        """Row G-FOLDER-DELETE: library panels first (refused when in use, else deleted), then the folder
        with its descendants and their dashboards; refused when any holds alert rules, unless
        ``forceDeleteRules`` (which deletes them too)."""
        self._require_write(identity)
        folder = self._folder_get_or_404(uid)
        if folder.library_panels_in_use:
            raise _err(403, LIBRARY_PANELS_IN_USE)
        folder.library_panels = 0  # DeleteLibraryElementsInFolder runs before (and apart from) the rest
        doomed = [uid, *self._descendants(uid)]
        force_rules = (request.param("forceDeleteRules") or "").lower() == "true"
        for f_uid in doomed:
            rules = self.folders[f_uid].alert_rules
            if rules and not force_rules:
                raise _err(400, f"folder contains {rules} alert rules", messageId="folder.not-empty")
        for dash_uid in [d.uid for d in self.dashboards.values() if d.folder_uid in doomed]:
            del self.dashboards[dash_uid]
        for f_uid in doomed:
            del self.folders[f_uid]
        return Response.json(200, {"message": "Folder deleted", "id": folder.id})

    # ================================================================================ dashboards

    def _dash_url(self, stored: StoredDashboard) -> str:
        return f"/d/{stored.uid}/{slugify(stored.title)}"

    def _store_dashboard(
        self,
        data: dict[str, Any],
        folder_uid: str,
        existing: StoredDashboard | None,
        user: str,
        message: str,
    ) -> StoredDashboard:
        """Persist a validated save; ``data`` already carries the final uid and trimmed title."""
        now = _now()
        if existing is None:
            stored = StoredDashboard(
                id=self._take_id(),
                uid=data["uid"],
                dashboard={},
                folder_uid=folder_uid,
                version=1,
                created=now,
                updated=now,
                created_by=user,
                updated_by=user,
            )
            parent_version = 0
        else:
            stored = existing
            parent_version = existing.version
            if existing.uid != data["uid"]:  # an update by id may change the uid
                self.dashboards.pop(existing.uid, None)
                stored.uid = data["uid"]
            stored.version = existing.version + 1
            stored.folder_uid = folder_uid
            stored.updated = now
            stored.updated_by = user
        data["id"] = stored.id
        data["uid"] = stored.uid
        data["version"] = stored.version
        stored.dashboard = data
        stored.versions.append(
            {
                "id": self._next_version_id,
                "dashboardId": stored.id,
                "uid": stored.uid,
                "parentVersion": parent_version,
                "restoredFrom": 0,
                "version": stored.version,
                "created": now,
                "createdBy": user,
                "message": message,
                "data": copy.deepcopy(data),
            }
        )
        self._next_version_id += 1
        self.dashboards[stored.uid] = stored
        return stored

    def _resolve_folder(self, body: dict[str, Any]) -> str:
        """The target folder uid ("" = General). A save without folderUid/folderId goes to General."""
        folder_uid = body.get("folderUid")
        if folder_uid is not None:
            if not isinstance(folder_uid, str):
                raise _err(400, "bad request data")
            folder_uid = folder_uid.strip()
            if folder_uid in ("", GENERAL_FOLDER_UID):
                return ""
            if folder_uid not in self.folders:
                raise _err(400, "folder not found")
            return folder_uid
        folder_id = _as_int(body.get("folderId"))
        if folder_id:
            for f in self.folders.values():
                if f.id == folder_id:
                    return f.uid
            raise _err(400, "folder not found")
        return ""

    def _dash_save(self, request: Request, identity: _Identity | None) -> Response:
        self._require_write(identity, "Access denied to save dashboard")
        body = self._body(request)
        dash = body.get("dashboard")
        if not isinstance(dash, dict):
            raise _err(400, "bad request data")
        if body.get("isFolder") is True:
            raise _err(400, "Use folders endpoint for saving folders.")
        message = body.get("message") or ""
        if not isinstance(message, str):
            raise _err(400, "bad request data")
        if len(message) > MAX_MESSAGE_LENGTH:
            raise _err(400, "message too long, max 500 characters")
        overwrite = body.get("overwrite") is True
        data = copy.deepcopy(dash)
        title = data.get("title")
        title = title.strip() if isinstance(title, str) else ""
        if not title:
            raise _err(400, "Dashboard title cannot be empty", "empty-name")
        if len(title) > MAX_TITLE_LENGTH:
            raise _err(400, "Dashboard title cannot be longer than 5000 characters", "title-too-long")
        data["title"] = title
        uid = data.get("uid")
        uid = uid.strip() if isinstance(uid, str) else ""
        self._validate_uid(uid)
        refresh = _refresh_seconds(data.get("refresh"))
        if refresh is not None and refresh < self.min_refresh_interval:
            raise _err(400, "Dashboard refresh interval is too low")
        folder_uid = self._resolve_folder(body)

        dash_id = _as_int(data.get("id"))
        by_id: StoredDashboard | None = None
        if dash_id > 0:
            by_id = next((d for d in self.dashboards.values() if d.id == dash_id), None)
            if by_id is None:
                raise _err(404, "Dashboard not found", "not-found")
            if not uid:
                uid = by_id.uid
        by_uid = self.dashboards.get(uid) if uid else None
        if uid and by_uid is None and uid in self.folders:
            raise _err(400, "Dashboard cannot be changed to a folder")
        if by_id is not None and by_uid is not None and by_id.id != by_uid.id:
            raise _err(400, "A dashboard with the same uid already exists")
        existing = by_id or by_uid
        quota = self.dashboard_quota
        if existing is None and quota is not None and self.major < 13 and len(self.dashboards) >= quota:
            raise _err(403, "Quota reached")
        if existing is not None:
            if existing.provisioned and not existing.allow_ui_updates and self.major >= 13:
                raise _err(400, "Cannot save provisioned dashboard")
            version = data.get("version")
            if self.major >= 13:
                # saveDashboardViaK8s: without overwrite, the request must carry the current generation.
                if not overwrite and (
                    not isinstance(version, int | float) or int(version) != existing.version
                ):
                    raise _err(409, ALREADY_EXISTS)
            else:
                if _as_int(version) != existing.version and not overwrite:
                    raise _err(412, VERSION_MISMATCH, "version-mismatch")
                if existing.plugin_id and not overwrite:
                    raise _err(
                        412, f"The dashboard belongs to plugin {existing.plugin_id}.", "plugin-dashboard"
                    )
            if existing.provisioned and not existing.allow_ui_updates:
                raise _err(400, "Cannot save provisioned dashboard")
        data["uid"] = uid or _generate_uid()
        stored = self._store_dashboard(
            data, folder_uid, existing, identity.login if identity else "admin", message
        )
        return Response.json(
            200,
            {
                "status": "success",
                "slug": slugify(stored.title),
                "version": stored.version,
                "id": stored.id,
                "uid": stored.uid,
                "url": self._dash_url(stored),
                "folderUid": stored.folder_uid,
            },
        )

    def _dash_get_or_404(self, uid: str) -> StoredDashboard:
        stored = self.dashboards.get(uid)
        if stored is None:
            raise _err(404, "Dashboard not found")
        return stored

    def _dash_get(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        stored = self._dash_get_or_404(uid)
        if stored.api_version.startswith("v2"):
            url = f"/apis/dashboard.grafana.app/{stored.api_version}/namespaces/default/dashboards/{uid}"
            raise _err(406, f"dashboard api version not supported, use {url} instead")
        can_write = identity is None or identity.can_write
        folder = self.folders.get(stored.folder_uid) if stored.folder_uid else None
        # A shallow copy is enough: the response is serialised before the lock is released.
        dashboard = {**stored.dashboard, "version": stored.version, "id": stored.id, "uid": stored.uid}
        meta = {
            "type": "db",
            "isStarred": False,
            "canSave": can_write,
            "canEdit": can_write,
            "canAdmin": can_write,
            "canStar": True,
            "canDelete": can_write,
            "slug": slugify(stored.title),
            "url": self._dash_url(stored),
            "expires": "0001-01-01T00:00:00Z",
            "created": stored.created,
            "updated": stored.updated,
            "updatedBy": stored.updated_by,
            "createdBy": stored.created_by,
            "version": stored.version,
            "hasAcl": False,
            "isFolder": False,
            "folderId": folder.id if folder else 0,
            "folderUid": folder.uid if folder else "",
            "folderTitle": folder.title if folder else "General",
            "folderUrl": self._folder_url(folder) if folder else "",
            "provisioned": stored.provisioned and not stored.allow_ui_updates,
            "provisionedExternalId": stored.provisioned_external_id,
            "annotationsPermissions": {
                "dashboard": {"canAdd": can_write, "canEdit": can_write, "canDelete": can_write},
                "organization": {"canAdd": can_write, "canEdit": can_write, "canDelete": can_write},
            },
            "publicDashboardEnabled": False,
        }
        return Response.json(200, {"dashboard": dashboard, "meta": meta})

    def _dash_delete(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        stored = self._dash_get_or_404(uid)
        self._require_write(identity, "Access denied to delete dashboard")
        if stored.provisioned:
            raise _err(400, "provisioned dashboard cannot be deleted")
        del self.dashboards[uid]
        title = stored.title
        return Response.json(200, {"title": title, "message": f"Dashboard {title} deleted", "uid": uid})

    @staticmethod
    def _version_row(row: dict[str, Any], with_data: bool) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in row.items() if k != "data"}
        if with_data:
            out["data"] = copy.deepcopy(row["data"])
        return out

    @staticmethod
    def _listed_message(row: dict[str, Any]) -> str:
        """GetDashboardVersions rewrites the message of a listed version (in this order)."""
        message = row["message"]
        if row["restoredFrom"] == row["version"]:
            message = "Initial save (created by migration)"
        if row["restoredFrom"] > 0:
            message = f"Restored from version {row['restoredFrom']}"
        if row["parentVersion"] == 0:
            message = "Initial save"
        return message

    def _dash_versions(self, request: Request, identity: _Identity | None, uid: str) -> Response:
        stored = self._dash_get_or_404(uid)
        if self.major < 12:
            self._require_write(identity)  # Grafana 11 checks CanSave before listing
        limit = _query_int(request, "limit", 0) or 1000
        start = max(_query_int(request, "start", 0), 0)
        rows = list(reversed(stored.versions))[start : start + limit]
        listed = [{**self._version_row(r, with_data=False), "message": self._listed_message(r)} for r in rows]
        if self.major < 12:
            return Response.json(200, listed)
        return Response.json(200, {"continueToken": "", "versions": listed})

    def _dash_version(self, request: Request, identity: _Identity | None, uid: str, version: str) -> Response:
        stored = self._dash_get_or_404(uid)
        if self.major < 12:
            self._require_write(identity)
        for row in stored.versions:
            if str(row["version"]) == version:
                return Response.json(200, self._version_row(row, with_data=True))
        raise _err(404, "Dashboard version not found")

    # ================================================================================ search

    def _search(self, request: Request, identity: _Identity | None) -> Response:
        query = (request.param("query") or "").lower()
        tags = request.params("tag")
        kind = request.param("type") or ""
        dash_uids = _split_multi(request.params("dashboardUIDs"))
        folder_uids = _split_multi(request.params("folderUIDs"))
        starred = (request.param("starred") or "").lower() == "true"
        limit = _query_int(request, "limit", SEARCH_DEFAULT_LIMIT)
        if limit <= 0:
            limit = SEARCH_DEFAULT_LIMIT
        if limit > SEARCH_MAX_LIMIT:
            raise _err(
                422, "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit"
            )
        page = max(_query_int(request, "page", 1), 1)
        folder_filter = {"" if u == GENERAL_FOLDER_UID else u for u in folder_uids}

        hits: list[tuple[int, str, dict[str, Any]]] = []
        if kind in ("", "dash-folder") and not tags and not starred:
            for f in self.folders.values():
                if query and query not in f.title.lower():
                    continue
                if dash_uids and f.uid not in dash_uids:
                    continue
                if folder_uids and f.parent_uid not in folder_filter:
                    continue
                hit = {
                    "id": f.id,
                    "uid": f.uid,
                    "orgId": 1,
                    "title": f.title,
                    "uri": f"db/{slugify(f.title)}",
                    "url": self._folder_url(f),
                    "slug": "",
                    "type": "dash-folder",
                    "tags": [],
                    "isStarred": False,
                    "sortMeta": 0,
                }
                self._add_parent_fields(hit, f.parent_uid)
                hits.append((0, f.title.lower(), hit))
        if kind in ("", "dash-db") and not starred:
            for d in self.dashboards.values():
                if query and query not in d.title.lower():
                    continue
                if tags and not all(t in d.tags for t in tags):
                    continue
                if dash_uids and d.uid not in dash_uids:
                    continue
                if folder_uids and d.folder_uid not in folder_filter:
                    continue
                hit = {
                    "id": d.id,
                    "uid": d.uid,
                    "orgId": 1,
                    "title": d.title,
                    "uri": f"db/{slugify(d.title)}",
                    "url": self._dash_url(d),
                    "slug": "",
                    "type": "dash-db",
                    "tags": sorted(d.tags),
                    "isStarred": False,
                    "sortMeta": 0,
                }
                self._add_parent_fields(hit, d.folder_uid)
                hits.append((1, d.title.lower(), hit))
        hits.sort(key=lambda h: (h[0], h[1], h[2]["uid"]))
        window = hits[(page - 1) * limit : page * limit]
        return Response.json(200, [h[2] for h in window])

    def _add_parent_fields(self, hit: dict[str, Any], folder_uid: str) -> None:
        # Root items carry no folder fields (Go `omitempty`).
        folder = self.folders.get(folder_uid) if folder_uid else None
        if folder is None:
            return
        hit["folderId"] = folder.id
        hit["folderUid"] = folder.uid
        hit["folderTitle"] = folder.title
        hit["folderUrl"] = self._folder_url(folder)


def _pairs(value: Iterable[tuple[str, str]] | tuple[str, str]) -> list[tuple[str, str]]:
    """Accept one ``(user, password)`` pair or an iterable of them."""
    # mypy cannot follow the all(isinstance(...)) test that tells one pair from a tuple of pairs.
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return [value]  # type: ignore[list-item]
    return [tuple(p) for p in value]  # type: ignore[misc]


def _query_int(request: Request, name: str, default: int) -> int:
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return default


def _split_multi(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out
