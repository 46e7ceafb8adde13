"""The read side of the Prometheus HTTP API (Prometheus, Thanos Query, Mimir under its `/prometheus` prefix).

Only the metadata endpoints live lint and `catalog --live` need: metric names, label names and values (each narrowed by a
`match[]` selector and a time window), and metric metadata. Every answer is the API's envelope
`{"status": "success", "data": ...}`; anything else is a `QueryRefused`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from .query import HttpApi, envelope_data

# Selectors longer than this go in a POST form body (Prometheus and Mimir accept both for these routes,
# except label values, which is GET only in Mimir; label values selectors stay short: one metric).
MAX_GET_SELECTOR = 2000


@dataclass(frozen=True)
class Window:
    """The look-back window every question is asked over, in Unix seconds."""

    start: int
    end: int
    text: str  # as the user wrote it ("7d"), for messages

    def prometheus(self) -> list[tuple[str, str]]:
        return [("start", str(self.start)), ("end", str(self.end))]

    def loki(self) -> list[tuple[str, str]]:
        # Loki reads a value longer than 10 digits as Unix nanoseconds (pkg/loghttp/params.go, parseTimestamp).
        return [("start", str(self.start * 1_000_000_000)), ("end", str(self.end * 1_000_000_000))]


class PrometheusApi:
    def __init__(self, http: HttpApi):
        self.http = http

    def metric_names(self, window: Window) -> set[str]:
        data = envelope_data(
            self.http.get_json("/api/v1/label/__name__/values", window.prometheus()), "metric names"
        )
        return {str(v) for v in data or []}

    def label_names(self, selector: str, window: Window) -> set[str]:
        params = [("match[]", selector), *window.prometheus()]
        body = self.http.get_json("/api/v1/labels", params, post=len(selector) > MAX_GET_SELECTOR)
        return {str(v) for v in envelope_data(body, f"labels of {selector}") or []}

    def label_values(self, label: str, selector: str, window: Window) -> set[str]:
        params = [("match[]", selector), *window.prometheus()]
        body = self.http.get_json(f"/api/v1/label/{quote(label, safe='')}/values", params)
        return {str(v) for v in envelope_data(body, f"values of {label} on {selector}") or []}

    def metadata(self) -> dict[str, dict[str, str]]:
        """{family: {"type": ..., "help": ..., "unit": ...}}, the first entry of each family."""
        data = envelope_data(self.http.get_json("/api/v1/metadata"), "metadata")
        result: dict[str, dict[str, str]] = {}
        for family, entries in (data or {}).items():
            if isinstance(entries, list) and entries and isinstance(entries[0], dict):
                result[str(family)] = {k: str(v) for k, v in entries[0].items() if v is not None}
        return result
