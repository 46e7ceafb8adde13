"""HTTP clients for the servers lgtm-dash talks to, and the retry policy they share.

This package sits below `publish`, `diff` and live lint and imports none of them: a client knows
endpoints, retries and how to classify a server's refusal, nothing about plans. The Grafana, Mimir and Loki ruler
clients live in `grafana`, `mimir` and `loki`; the ruler API Mimir and Loki share is `ruler`. The read-only
query clients live lint and `catalog --live` use are `query` (JSON over HTTP for one datasource: Prometheus,
Mimir, Thanos, Loki, Grafana's proxy), `prometheus_api`, `loki.LokiQueryApi` and `mysql` (`information_schema`).
"""

from .http import AuthError, Refused, RetryPolicy, TransientError, VersionConflict

__all__ = ["AuthError", "Refused", "RetryPolicy", "TransientError", "VersionConflict"]
