"""HTTP clients for the servers lgtm-dash talks to, and the retry policy they share.

This package sits below `publish`, `diff` and live lint and imports none of them: a client knows
endpoints, retries and how to classify a server's refusal, nothing about plans. The Grafana, Mimir and Loki ruler
clients live in `grafana`, `mimir` and `loki`; the ruler API Mimir and Loki share is `ruler`.
"""

from .http import AuthError, Refused, RetryPolicy, TransientError, VersionConflict

__all__ = ["AuthError", "Refused", "RetryPolicy", "TransientError", "VersionConflict"]
