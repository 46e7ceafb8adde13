"""Forwarding proxies that put a real Prometheus behind the URL shapes of Mimir and of Grafana's proxy.

* :class:`MimirQueryProxy`: Mimir serves the Prometheus HTTP API under ``-http.prometheus-http-prefix``
  (default ``/prometheus``; grafana/mimir ``pkg/api/api.go``, ``Config.RegisterFlagsWithPrefix``; the
  labels, label values, series and metadata routes are registered under it in ``pkg/api/handlers.go``,
  ``NewQuerierHandler``) and needs ``X-Scope-OrgID`` on every request (dskit ``AuthenticateUser``: **401**
  ``no org id``). The proxy requires the header, strips the prefix and forwards to the real Prometheus,
  so the answers are Prometheus' own.
* :class:`GrafanaDatasourceProxy`: Grafana forwards ``/api/datasources/proxy/uid/<uid>/<path>`` to the
  datasource's URL (grafana/grafana ``pkg/api/api.go``, ``ProxyDataSourceRequestWithUID``, signed-in users
  only), adding the datasource's configured headers (such as ``X-Scope-OrgID``). The proxy requires a
  known bearer token, and forwards to the upstream configured per uid with its headers. A datasource that
  answers 401 is answered as 400 ``Authentication to data source failed`` (``pkg/api/pluginproxy/ds_proxy.go``,
  ``HandleRequest``, ``ModifyResponse``).

The rows these follow are in docs/server-contract.md ("Prometheus query API behind Mimir's prefix",
"Grafana datasource proxy"), checked by tests/test_server_contract.py.

Both are :class:`~.faults.HTTPEmulator` servers, so latency and failures can be injected. They forward
without taking the emulator lock: a real proxy serves requests in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from .faults import HTTPEmulator, Request, Response

__all__ = ["GrafanaDatasourceProxy", "MimirQueryProxy"]

NO_ORG_ID = "no org id"
UPSTREAM_UNAUTHORIZED = "Authentication to data source failed"
HOP_HEADERS = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding"})


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None

    def acquire(self, *args: Any) -> bool:
        return True

    def release(self) -> None:
        return None


def _forward(request: Request, url: str, extra_headers: Mapping[str, str]) -> Response:
    import requests

    headers = {k: v for k, v in request.headers.items() if k not in HOP_HEADERS and k != "authorization"}
    headers.update(extra_headers)
    query = urlencode([(k, v) for k, values in request.query.items() for v in values])
    target = f"{url}?{query}" if query else url
    try:
        answer = requests.request(
            request.method, target, data=request.body or None, headers=headers, timeout=30
        )
    except requests.RequestException as err:
        return Response.text(502, f"upstream unreachable: {err}")
    keep = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "retry-after")}
    return Response(answer.status_code, answer.content, keep)


class MimirQueryProxy(HTTPEmulator):
    """Mimir's query API shape (prefix + tenant header) in front of one real Prometheus."""

    def __init__(self, upstream: str, *, prefix: str = "/prometheus", require_tenant: bool = True) -> None:
        """`prefix=""` and `require_tenant=False` make it a plain forwarding proxy (Thanos Query's shape),
        useful to put latency in front of the real Prometheus."""
        super().__init__()
        self.lock = _NoLock()
        self.upstream = upstream.rstrip("/")
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.require_tenant = require_tenant
        self.tenants_seen: set[str] = set()

    def handle(self, request: Request) -> Response:
        tenant = request.header("X-Scope-OrgID")
        if self.require_tenant and not tenant:
            return Response.text(401, NO_ORG_ID)
        if tenant:
            self.tenants_seen.add(tenant)
        if not request.raw_path.startswith(self.prefix + "/api/v1/"):
            return Response.text(404, "404 page not found")
        return _forward(request, self.upstream + request.raw_path[len(self.prefix) :], {})


class GrafanaDatasourceProxy(HTTPEmulator):
    """Grafana's datasource proxy route for the datasources given: {uid: (upstream URL, headers)}."""

    def __init__(self, datasources: Mapping[str, tuple[str, Mapping[str, str]]], tokens: set[str]) -> None:
        super().__init__()
        self.lock = _NoLock()
        self.datasources = dict(datasources)
        self.tokens = set(tokens)

    def handle(self, request: Request) -> Response:
        auth = request.header("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[len("Bearer ") :] not in self.tokens:
            return Response.json(401, {"message": "Unauthorized"})
        segments = request.raw_path.split("/")
        # ["", "api", "datasources", "proxy", "uid", <uid>, ...rest]
        if segments[1:5] != ["api", "datasources", "proxy", "uid"] or len(segments) < 6:
            return Response.json(404, {"message": "Not found"})
        uid = segments[5]
        if uid not in self.datasources:
            return Response.json(404, {"message": "Unable to find datasource"})
        upstream, headers = self.datasources[uid]
        rest = "/" + "/".join(segments[6:])
        answer = _forward(request, upstream.rstrip("/") + rest, headers)
        if answer.status == 401:  # the datasource refused Grafana's credentials: not the caller's
            return Response(400, UPSTREAM_UNAUTHORIZED.encode(), {})
        return answer
