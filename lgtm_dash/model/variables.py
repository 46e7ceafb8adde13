"""Dashboard variables: thin helpers over grafanalib's `Template` with modern defaults.

Use the same variable names across dashboards (`cluster`, `namespace`, `service`...): links between dashboards
then carry the filters as `var-<name>` and the time range as `${__url_time_range}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grafanalib.core import Template

from ..errors import DefinitionError
from ..source import caller_location, record

# The value Grafana stores (and puts in URLs) for a variable's "All" option.
ALL = "$__all"
# Query variables reload their values when the time range changes: label values depend on it.
REFRESH_ON_TIME_RANGE_CHANGE = 2
REFRESH_ON_LOAD = 1
SORT_ALPHABETICAL = 1


def _selected(value: str, text: str | None = None) -> dict[str, Any]:
    shown = "All" if value == ALL else value
    return {"selected": True, "text": text if text is not None else shown, "value": value}


def _with_current(template: Template, current: dict[str, Any] | None) -> Template:
    # grafanalib derives `current` from `default` as text=value; Grafana shows "All" (or a name) instead.
    if current is not None:
        template._current = current
    return record(template)


def query_variable(
    name: str,
    query: str,
    *,
    datasource: Mapping[str, str],
    label: str | None = None,
    multi: bool = False,
    include_all: bool = False,
    all_value: str | None = None,
    default: str | None = None,
    regex: str | None = None,
) -> Template:
    """Values from a datasource query (`label_values(metric, label)` for Prometheus and Loki)."""
    if default == ALL and not include_all:
        raise DefinitionError(f"variable {name!r}: default All needs include_all=True", caller_location())
    template = Template(
        name=name,
        query=query,
        dataSource=dict(datasource),
        label=label,
        multi=multi,
        includeAll=include_all,
        allValue=all_value,
        default=default,
        regex=regex,
        refresh=REFRESH_ON_TIME_RANGE_CHANGE,
        sort=SORT_ALPHABETICAL,
    )
    return _with_current(template, _selected(default) if default else None)


def custom_variable(
    name: str,
    values: Sequence[str],
    *,
    label: str | None = None,
    multi: bool = False,
    include_all: bool = False,
    all_value: str | None = None,
    default: str | None = None,
) -> Template:
    """A fixed list of values (e.g. log levels)."""
    chosen = default if default is not None else (ALL if include_all else values[0])
    if chosen != ALL and chosen not in values:
        raise DefinitionError(
            f"variable {name!r}: default {chosen!r} is not one of {values}", caller_location()
        )
    options = [{"selected": chosen == ALL, "text": "All", "value": ALL}] if include_all else []
    options += [{"selected": chosen == value, "text": value, "value": value} for value in values]
    template = Template(
        name=name,
        query=",".join(values),
        type="custom",
        label=label,
        multi=multi,
        includeAll=include_all,
        allValue=all_value,
        options=options,
    )
    return _with_current(template, _selected(chosen))


def textbox(name: str, *, label: str | None = None, default: str = "") -> Template:
    """Free text typed by the user (or set by a link: `var-<name>=...`)."""
    template = Template(name=name, query=default, type="textbox", label=label, default=default)
    return _with_current(template, {"selected": False, "text": default, "value": default})


def datasource_variable(
    name: str,
    plugin: str,
    *,
    default: Any,
    label: str | None = None,
    regex: str | None = None,
) -> Template:
    """Switch every panel between datasources of one type; `default` is a Datasource (its uid is stored)."""
    template = Template(
        name=name,
        query=plugin,
        type="datasource",
        label=label,
        regex=regex,
        default=default.uid,
        refresh=REFRESH_ON_LOAD,
    )
    return _with_current(template, _selected(default.uid, default.name))


def variable_ref(name: str) -> str:
    """`${name}`: how panels refer to a variable (e.g. a datasource variable's uid)."""
    return "${" + name + "}"


@dataclass(frozen=True)
class RawVariable:
    """A variable written as Grafana stores it (an imported dashboard's): every key kept, nothing added."""

    fields: Mapping[str, Any]

    def to_json_data(self) -> dict[str, Any]:
        return dict(self.fields)


def variable(**fields: Any) -> RawVariable:
    """`variable(name="job", type="query", query="label_values(up, job)", datasource=PROMETHEUS, refresh=2)`:
    any variable type with every key as Grafana names it, for what the helpers above cannot say."""
    return record(RawVariable(fields))
