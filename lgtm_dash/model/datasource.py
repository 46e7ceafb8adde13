"""Datasources as code.

A definition pins the UID, name, type and the correlations between datasources; the environment supplies
URL, tenant and credential *names* (environments.yaml). `render()` produces one entry of a Grafana
provisioning file, with secrets as `${VAR}` placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..environments import Environment
from ..errors import DefinitionError
from ..secrets import Secret
from ..source import SourceLocation, caller_location
from .uid import check_uid

TENANT_HEADER = "X-Scope-OrgID"


@dataclass(frozen=True)
class Datasource:
    uid: str
    name: str
    type: str
    json_data: Mapping[str, Any] = field(default_factory=dict)
    secure_json_data: Mapping[str, Secret | str] = field(default_factory=dict)
    # Send X-Scope-OrgID with the environment's tenant for this datasource (Loki, Mimir, Tempo).
    tenant_header: bool = False
    # A path the environment URL must end with (Mimir's Prometheus API lives under /prometheus).
    url_suffix: str = ""
    access: str = "proxy"
    is_default: bool = False
    editable: bool = False
    # UIDs of other datasources this one links to (derived fields, trace-to-logs...), checked at build.
    references: tuple[str, ...] = ()
    # Environment settings this type cannot work without (e.g. MySQL's user, database, password).
    requires: tuple[str, ...] = ()
    location: SourceLocation = field(default_factory=caller_location, compare=False)
    # Made elsewhere (the UI, Helm, Terraform): dashboards may refer to it, the build never provisions it.
    external: bool = False

    def __post_init__(self) -> None:
        check_uid(self.uid, f"datasource {self.name!r}", self.location)

    def ref(self) -> dict[str, str]:
        """The `{"type", "uid"}` reference panels and targets use."""
        return {"type": self.type, "uid": self.uid}

    def render(self, env: Environment) -> dict[str, Any]:
        """One `datasources:` entry of a provisioning file for `env` (values not yet escaped)."""
        settings = env.datasource(self.uid, self.location)
        if self.url_suffix and not settings.url.rstrip("/").endswith(self.url_suffix):
            raise DefinitionError(
                f"datasource {self.uid!r}: URL {settings.url!r} must end with {self.url_suffix!r}",
                settings.location,
            )
        missing = [name for name in self.requires if not getattr(settings, name)]
        if missing:
            raise DefinitionError(
                f"datasource {self.uid!r} needs {', '.join(missing)} in environment {env.name!r}",
                settings.location,
            )
        json_data: dict[str, Any] = dict(self.json_data)
        secure: dict[str, Any] = dict(self.secure_json_data)
        entry: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "uid": self.uid,
            "access": self.access,
            "orgId": env.grafana.org_id,
            "url": settings.url,
            "isDefault": self.is_default,
            "editable": self.editable,
        }
        if self.tenant_header:
            if not settings.tenant:
                raise DefinitionError(
                    f"datasource {self.uid!r} needs a tenant in environment {env.name!r}", settings.location
                )
            json_data["httpHeaderName1"] = TENANT_HEADER
            secure["httpHeaderValue1"] = settings.tenant
        if settings.user:
            entry["user"] = settings.user
        if settings.database:
            json_data["database"] = settings.database
        if settings.password:
            secure["password"] = settings.password  # a Secret: rendered as a ${VAR} placeholder
        if settings.basic_auth_user:
            entry["basicAuth"] = True
            entry["basicAuthUser"] = settings.basic_auth_user
            if settings.basic_auth_password:
                secure["basicAuthPassword"] = settings.basic_auth_password
        if json_data:
            entry["jsonData"] = json_data
        if secure:
            entry["secureJsonData"] = secure
        return entry


# --- Builders for the datasource types this stack uses -------------------------------------------------


def external(uid: str, type: str, name: str | None = None) -> Datasource:
    """A datasource this project refers to but does not manage (made in the UI, by Helm or Terraform).

    The build checks dashboards' references against it and lists it in out/grafana/datasources-external.yaml
    (so lint knows it exists); it is never provisioned or published. Replace it with a full definition
    (`prometheus(...)`, `loki(...)`...) to manage it here.
    """
    return Datasource(uid=uid, name=name or uid, type=type, external=True, location=caller_location())


def loki(
    uid: str,
    name: str,
    *,
    derived_fields: Sequence[Mapping[str, Any]] = (),
    max_lines: int = 1000,
    **json_data: Any,
) -> Datasource:
    """Loki with the tenant header; `derived_fields` from `trace_id_field()`."""
    fields = [dict(f) for f in derived_fields]
    return Datasource(
        uid=uid,
        name=name,
        type="loki",
        json_data={"maxLines": max_lines, **json_data, **({"derivedFields": fields} if fields else {})},
        tenant_header=True,
        references=tuple(f["datasourceUid"] for f in fields if f.get("datasourceUid")),
        location=caller_location(),
    )


def trace_id_field(
    *,
    tempo_uid: str,
    name: str = "TraceID",
    regex: str | None = None,
    label: str | None = None,
    display_label: str = "Open trace in Tempo",
) -> dict[str, Any]:
    """A Loki derived field that turns a trace id in a log line (regex) or label into a Tempo link."""
    if (regex is None) == (label is None):
        raise DefinitionError("trace_id_field needs exactly one of regex= or label=", caller_location())
    return {
        "name": name,
        "matcherType": "regex" if regex is not None else "label",
        "matcherRegex": regex if regex is not None else label,
        "datasourceUid": tempo_uid,
        "url": "${__value.raw}",
        "urlDisplayLabel": display_label,
    }


def prometheus(
    uid: str,
    name: str,
    *,
    flavor: str,
    tenant_header: bool,
    scrape_interval: str = "30s",
    exemplar_trace_uid: str | None = None,
    exemplar_label: str = "trace_id",
    **json_data: Any,
) -> Datasource:
    """A Prometheus-API datasource: flavor "Mimir" (under /prometheus, tenant header) or "Thanos"."""
    if flavor not in {"Prometheus", "Cortex", "Mimir", "Thanos"}:
        raise DefinitionError(f"unknown Prometheus flavor {flavor!r}", caller_location())
    data: dict[str, Any] = {
        "httpMethod": "POST",
        "prometheusType": flavor,
        "timeInterval": scrape_interval,
        **json_data,
    }
    if exemplar_trace_uid:
        data["exemplarTraceIdDestinations"] = [
            {
                "name": exemplar_label,
                "datasourceUid": exemplar_trace_uid,
                "urlDisplayLabel": "Open trace in Tempo",
            }
        ]
    return Datasource(
        uid=uid,
        name=name,
        type="prometheus",
        json_data=data,
        tenant_header=tenant_header,
        url_suffix="/prometheus" if flavor in {"Mimir", "Cortex"} else "",
        references=(exemplar_trace_uid,) if exemplar_trace_uid else (),
        location=caller_location(),
    )


def tempo(
    uid: str,
    name: str,
    *,
    logs_uid: str,
    metrics_uid: str,
    trace_id_log_query: str | None = None,
    span_tags: Sequence[Mapping[str, str]] = (),
    **json_data: Any,
) -> Datasource:
    """Tempo with trace-to-logs (filtered by trace id), trace-to-metrics and the service map."""
    traces_to_logs: dict[str, Any] = {
        "datasourceUid": logs_uid,
        "spanStartTimeShift": "-5m",
        "spanEndTimeShift": "5m",
        "filterByTraceID": True,
        "filterBySpanID": False,
        "tags": [dict(t) for t in span_tags],
    }
    if trace_id_log_query:
        traces_to_logs.update(customQuery=True, query=trace_id_log_query)
    data = {
        "tracesToLogsV2": traces_to_logs,
        "tracesToMetrics": {"datasourceUid": metrics_uid, "tags": [dict(t) for t in span_tags]},
        "serviceMap": {"datasourceUid": metrics_uid},
        "nodeGraph": {"enabled": True},
        "search": {"hide": False},
        **json_data,
    }
    return Datasource(
        uid=uid,
        name=name,
        type="tempo",
        json_data=data,
        tenant_header=True,
        references=(logs_uid, metrics_uid),
        location=caller_location(),
    )


def mysql(
    uid: str, name: str, *, max_open_conns: int = 10, timezone: str = "UTC", **json_data: Any
) -> Datasource:
    """MySQL: `url: host:port`, user and database from the environment, password only in secureJsonData."""
    return Datasource(
        uid=uid,
        name=name,
        type="mysql",
        json_data={
            "maxOpenConns": max_open_conns,
            "maxIdleConns": max_open_conns,
            "maxIdleConnsAuto": True,
            "connMaxLifetime": 14400,
            "timezone": timezone,
            **json_data,
        },
        requires=("user", "database", "password"),
        location=caller_location(),
    )
