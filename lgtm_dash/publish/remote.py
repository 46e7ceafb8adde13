"""What the Grafana and Mimir clients share: retries with backoff, and the remote error kinds.

Only transient failures are retried: 429 (honouring Retry-After), 5xx and connection errors. Everything
else (4xx, conflicts, bad input) fails at once, because trying again cannot change the answer.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..errors import RemoteError

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# A Retry-After longer than this is not worth waiting for inside one publish.
MAX_RETRY_AFTER_SECONDS = 60.0


class TransientError(Exception):
    """A failure worth retrying; `retry_after` is the server's hint in seconds, if it gave one."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


class AuthError(RemoteError):
    """401/403: the credential is missing, wrong or lacks rights. Stops the whole run."""


class VersionConflict(RemoteError):
    """The server refused a write because the object changed since it was read (Grafana 412/409)."""

    exit_code = 1


class NotFound(RemoteError):
    """404 on an object that has to exist."""


def auth_message(service: str, url: str, status: int, credential: str, detail: str = "") -> str:
    """One line naming the credential to check; never the credential's value."""
    what = "rejected the credentials" if status == 401 else "denied access"
    more = f": {detail}" if detail else ""
    return f"{service} at {url} {what} (HTTP {status}{more}); check {credential}"


def connection_problem(err: BaseException) -> str:
    """The useful part of a connection error (`[Errno 111] Connection refused`), not the pool's essay."""
    text = " ".join(str(err).split())
    found = re.search(r"\[Errno -?\d+\][^')\]]*", text)
    if found:
        return found.group(0).strip()
    return text if len(text) <= 200 else text[:200] + "..."


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or 500 <= status < 600


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form only; HTTP dates are treated as absent)."""
    if not value:
        return None
    try:
        return max(0.0, min(float(value.strip()), MAX_RETRY_AFTER_SECONDS))
    except ValueError:
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries in all; the n-th wait is `base_delay * 2**n` (capped), with full jitter."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def run(self, operation: Callable[[], T], on_retry: Callable[[TransientError], None] | None = None) -> T:
        """Call `operation` until it returns or raises something other than TransientError.

        After the last attempt the final TransientError propagates for the caller to turn into a
        RemoteError (the caller knows which object and server it was talking to).
        """
        for attempt in range(max(1, self.attempts)):
            try:
                return operation()
            except TransientError as err:
                if attempt + 1 >= max(1, self.attempts):
                    raise
                if on_retry is not None:
                    on_retry(err)
                self.sleep(self.delay(attempt, err.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover
