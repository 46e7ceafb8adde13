"""HTTP clients for the servers lgtm-dash talks to, and the retry policy they share.

This package sits below `publish`, `diff` and live lint and imports none of them: a client knows
endpoints, retries and how to classify a server's refusal, nothing about plans. The Grafana and Mimir
clients live in `grafana` and `mimir`; a Loki ruler client belongs beside them (same `http` plumbing).
"""

from .http import AuthError, Refused, RetryPolicy, TransientError, VersionConflict

__all__ = ["AuthError", "Refused", "RetryPolicy", "TransientError", "VersionConflict"]
