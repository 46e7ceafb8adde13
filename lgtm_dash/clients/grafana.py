"""The Grafana HTTP API as lgtm-dash uses it, over `clients.transport`.

Every call goes through `_call`, which retries transient failures and classifies refusals
(`clients.http.classify_refusal`): 401, or 403 on a read, is an `AuthError` naming the credential
variable; 403 on a write is `Refused` with Grafana's reason; 409/412 is a `VersionConflict`; 404 on a
read is `None` where the caller allows it. A dashboard stored as schema v2 answers 406 on the legacy
API (`NotLegacyDashboard`). Each request is bounded as a whole (`clients.http.within`, the run's
`--timeout`), redirects are refused but a read's to the same origin (`redirect_refusal`), and a TLS
certificate that does not verify fails at once. Secret values never reach a message: they are redacted
from everything the server or the HTTP library says (`clients.http.server_words`). What each endpoint
answers is written down in docs/server-contract.md.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import orjson

from ..environments import GrafanaTarget
from ..errors import RemoteError, UsageError
from ..secrets import basic_credentials
from .http import DEFAULT_TIMEOUT, RetryPolicy, failed_answer, server_words
from .transport import Answer, HttpTransport, Params, basic_auth

PAGE_SIZE = 1000  # GET /api/folders pages (its default limit)
SEARCH_PAGE_SIZE = 5000  # GET /api/search answers 422 above this (contract row G-SEARCH)


class NotLegacyDashboard(RemoteError):
    """The dashboard is stored as schema v2: the legacy `/api/dashboards` endpoints cannot read it (406)."""


class Grafana:
    """One Grafana organisation. Thread-safe: each worker thread gets its own HTTP session."""

    def __init__(
        self,
        target: GrafanaTarget,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        if not target.token and not (target.user and target.password):
            raise UsageError(
                f"no Grafana credentials: set {target.token_env} (service-account token) "
                f"or {target.user_env}/{target.password_env}"
            )
        self.target = target
        self.url = target.url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._secrets = {
            **(secrets or {}),
            "token": target.token or "",
            "password": target.password or "",
            "basic auth": basic_credentials(target.user, target.password),
        }
        authorization = (
            f"Bearer {target.token}" if target.token else basic_auth(target.user or "", target.password or "")
        )
        headers = {"Authorization": authorization}
        if target.org_id != 1:
            headers["X-Grafana-Org-Id"] = str(target.org_id)
        self._http = HttpTransport(self.url, service="Grafana", headers=headers, secrets=self._secrets)
        self._identity: str | None = None
        self._identity_lock = threading.Lock()

    # --- plumbing -------------------------------------------------------------------------------------

    def _clean(self, text: object) -> str:
        return server_words(text, self._secrets, limit=2000)

    def _call(
        self,
        what: str,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        missing_ok: bool = False,
        once: bool = False,
    ) -> Any:
        """`method` `/api<path>` with retries (`once`: no retry, for mere hints): the decoded answer, None for
        an answer without a body (or a tolerated 404). `what` names the object in messages."""
        data = None if body is None else orjson.dumps(body)

        def attempt() -> Any:
            answer = self._http.request(
                method,
                "/api" + path,
                what=what,
                timeout=self.retry.request_timeout(self.timeout),
                params=params,
                body=data,
            )
            status = answer.status
            if status < 300:
                return _decoded(answer, what)
            if status == 404 and missing_ok:
                return None
            detail = self._clean(_server_message(answer))
            if status == 406:
                raise NotLegacyDashboard(f"{what}: {detail}")
            raise failed_answer(
                method,
                status,
                what,
                detail,
                service="Grafana",
                url=self.url,
                credential=self.target.credential_name,
                retry_after=answer.headers.get("Retry-After"),
            )

        return (replace(self.retry, attempts=1) if once else self.retry).call(attempt, what=what)

    # --- who publishes ------------------------------------------------------------------------------------

    def identity(self) -> str | None:
        """The login this credential writes as (`GET /api/user`, row G-USER); None when unknown.

        Compared with a folder's `updatedBy` to tell a change made in Grafana from one publish made.
        Context only: a failure never fails the run.
        """
        with self._identity_lock:  # asked once, whichever planning thread asks first
            if self._identity is None:
                try:
                    answer = self._call("who am I", "GET", "/user", missing_ok=True, once=True)
                except RemoteError:
                    answer = None
                self._identity = str(answer.get("login") or "") if isinstance(answer, dict) else ""
        return self._identity or None

    # --- datasources ----------------------------------------------------------------------------------

    def list_datasources(self) -> list[dict[str, Any]]:
        return self._call("list datasources", "GET", "/datasources") or []

    def get_datasource(self, uid: str) -> dict[str, Any] | None:
        return self._call(f"datasource {uid}", "GET", f"/datasources/uid/{_segment(uid)}", missing_ok=True)

    def create_datasource(self, body: dict[str, Any]) -> None:
        self._call(f"datasource {body.get('uid')}", "POST", "/datasources", body=body)

    def update_datasource(self, uid: str, body: dict[str, Any]) -> None:
        self._call(f"datasource {uid}", "PUT", f"/datasources/uid/{_segment(uid)}", body=body)

    def delete_datasource(self, uid: str) -> None:
        self._call(f"datasource {uid}", "DELETE", f"/datasources/uid/{_segment(uid)}")

    # --- folders --------------------------------------------------------------------------------------

    def get_folder(self, uid: str) -> dict[str, Any] | None:
        return self._call(f"folder {uid}", "GET", f"/folders/{_segment(uid)}", missing_ok=True)

    def list_folders(self) -> list[dict[str, Any]]:
        """Every folder of the organisation, parents before children (`GET /api/folders` per level)."""
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        pending: list[str | None] = [None]
        while pending:
            parent = pending.pop(0)
            page = 1
            while True:
                hits = self._call(
                    "list folders",
                    "GET",
                    "/folders",
                    params={"limit": PAGE_SIZE, "page": page, **({"parentUid": parent} if parent else {})},
                )
                hits = hits or []
                for hit in hits:
                    # Without nested folders Grafana ignores parentUid and repeats the top level.
                    if hit["uid"] in seen:
                        continue
                    seen.add(hit["uid"])
                    found.append({**hit, "parentUid": hit.get("parentUid") or parent or ""})
                    pending.append(hit["uid"])
                if len(hits) < PAGE_SIZE:
                    break
                page += 1
        return found

    def create_folder(self, uid: str, title: str, parent_uid: str | None) -> None:
        body: dict[str, Any] = {"uid": uid, "title": title}
        if parent_uid:
            body["parentUid"] = parent_uid
        self._call(f"folder {uid}", "POST", "/folders", body=body)

    def update_folder(self, uid: str, title: str, version: int | None) -> None:
        body: dict[str, Any] = {"title": title}
        body.update({"version": version} if version is not None else {"overwrite": True})
        self._call(f"folder {uid}", "PUT", f"/folders/{_segment(uid)}", body=body)

    def move_folder(self, uid: str, parent_uid: str | None) -> None:
        self._call(
            f"folder {uid}", "POST", f"/folders/{_segment(uid)}/move", body={"parentUid": parent_uid or ""}
        )

    def folder_counts(self, uid: str) -> dict[str, int] | None:
        """What a folder and its sub-folders hold, by kind (`GET /api/folders/:uid/counts`, row
        G-FOLDER-COUNTS): what deleting it would take along. None when the folder is gone."""
        answer = self._call(
            f"folder {uid} contents",
            "GET",
            f"/folders/{_segment(uid)}/counts",
            missing_ok=True,
        )
        if answer is None:
            return None
        if not isinstance(answer, dict):
            raise RemoteError(f"folder {uid} contents: Grafana answered something other than counts")
        return {str(kind): int(n) for kind, n in answer.items() if isinstance(n, int | float)}

    def delete_folder(self, uid: str) -> None:
        """Delete a folder, and with it everything inside (row G-FOLDER-DELETE): check it is empty first.

        A folder already gone counts as done; `forceDeleteRules` is never sent, so Grafana itself refuses
        a folder that holds alert rules.
        """
        self._call(
            f"folder {uid}",
            "DELETE",
            f"/folders/{_segment(uid)}",
            missing_ok=True,
        )

    # --- dashboards -----------------------------------------------------------------------------------

    def search_dashboards(
        self, tag: str | None = None, folder_uid: str | None = None
    ) -> list[dict[str, Any]]:
        hits: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self._call(
                "search dashboards",
                "GET",
                "/search",
                params={
                    "type": "dash-db",
                    "limit": SEARCH_PAGE_SIZE,
                    "page": page,
                    **({"tag": tag} if tag is not None else {}),
                    **({"folderUIDs": folder_uid} if folder_uid is not None else {}),
                },
            )
            hits.extend(batch or [])
            if len(batch or []) < SEARCH_PAGE_SIZE:
                return hits
            page += 1

    def get_dashboard(self, uid: str) -> dict[str, Any] | None:
        """`{"dashboard": {...}, "meta": {...}}`, None when absent; NotLegacyDashboard for schema v2."""
        return self._call(f"dashboard {uid}", "GET", f"/dashboards/uid/{_segment(uid)}", missing_ok=True)

    def latest_version(self, uid: str) -> dict[str, Any] | None:
        """The newest saved version's row (`version`, `createdBy`, `message`), for telling who saved last.

        Grafana 11 answers a bare list, 12 and later `{"continueToken", "versions"}` (contract row
        G-DASH-VERSIONS). Its `message` is rewritten to "Initial save" for a first version, so it never
        decides ownership; it only adds context to a conflict.
        """
        answer = self._call(
            f"dashboard {uid} versions",
            "GET",
            f"/dashboards/uid/{_segment(uid)}/versions",
            params={"limit": 1},
            missing_ok=True,
        )
        rows = answer.get("versions") if isinstance(answer, dict) else answer
        if not rows:
            return None
        return max(rows, key=lambda row: row.get("version") or 0)

    def save_dashboard(
        self,
        dashboard: dict[str, Any],
        folder_uid: str,
        message: str,
        *,
        version: int | None,
        overwrite: bool,
    ) -> dict[str, Any]:
        """POST /api/dashboards/db; the answer carries the `version` Grafana stored.

        Without `overwrite`, `version` (the live one) guards against an edit made since it was read:
        Grafana 11/12 answer 412, 13 answers 409 (contract row G-DASH-SAVE-CONFLICT).
        """
        data = {**dashboard, "id": None}
        if version is not None:
            data["version"] = version
        else:
            data.pop("version", None)
        body = {"dashboard": data, "folderUid": folder_uid, "message": message, "overwrite": overwrite}
        answer = self._call(f"dashboard {dashboard.get('uid')}", "POST", "/dashboards/db", body=body)
        return answer if isinstance(answer, dict) else {}

    def delete_dashboard(self, uid: str) -> None:
        self._call(f"dashboard {uid}", "DELETE", f"/dashboards/uid/{_segment(uid)}")


def _segment(value: str) -> str:
    """One URL path segment (a uid is checked when read, but a live one may hold anything)."""
    return quote(value, safe="")


def _decoded(answer: Answer, what: str) -> Any:
    """A successful answer's JSON; None when it has no body, text for a text/* answer."""
    if answer.status == 204 or not answer.body.strip():
        return None
    if (answer.headers.get("Content-Type") or "").startswith("text/"):
        return answer.text
    try:
        return answer.json()
    except ValueError:
        raise RemoteError(f"{what}: Grafana answered something other than JSON") from None


def _server_message(answer: Answer) -> str:
    """Grafana's own reason: the `message` of a JSON error body, else the body's text."""
    try:
        data = answer.json()
    except ValueError:
        return answer.text
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return answer.text
