"""The read side of Loki's query API: label names, label values and series (streams), each over a window.

Behaviour relied on (cited in docs/server-contract.md, "Loki query API"): `/loki/api/v1/labels` and
`/loki/api/v1/label/<name>/values` answer `{"status": "success", "data": [...]}` with `data` left out when
empty; `/loki/api/v1/series` takes `match[]` and answers `{"status": "success", "data": [{label: value}]}`.
"""

from __future__ import annotations

from urllib.parse import quote

from .prometheus import MAX_GET_SELECTOR, Window
from .transport import HttpApi, envelope_data


class LokiApi:
    def __init__(self, http: HttpApi):
        self.http = http

    def label_names(self, window: Window) -> set[str]:
        return {
            str(v)
            for v in envelope_data(self.http.get_json("/loki/api/v1/labels", window.loki()), "labels") or []
        }

    def label_values(self, name: str, window: Window) -> set[str]:
        body = self.http.get_json(f"/loki/api/v1/label/{quote(name, safe='')}/values", window.loki())
        return {str(v) for v in envelope_data(body, f"values of {name}") or []}

    def series(self, selector: str, window: Window) -> list[dict[str, str]]:
        params = [("match[]", selector), *window.loki()]
        body = self.http.get_json("/loki/api/v1/series", params, post=len(selector) > MAX_GET_SELECTOR)
        return [dict(s) for s in envelope_data(body, f"streams of {selector}") or [] if isinstance(s, dict)]
