"""What every HTTP client shares: retries with backoff, and the remote error kinds.

Only transient failures are retried: 429 (honouring Retry-After), 5xx and connection errors. Everything
else fails at once, because trying again cannot change the answer. How a refusal is classified decides
what the caller does with it (see docs/server-contract.md, rows G-AUTH and G-REFUSED):

- `AuthError`: 401 anywhere, or 403 on a read. The credential is wrong or lacks rights; no later request
  can succeed with it, so the whole run stops.
- `Refused`: 403 on a write. Grafana and Mimir answer 403 for reasons that have nothing to do with the
  token (a read-only datasource, a folder whose library panels are in use, a quota, a protected Mimir
  namespace): that one object fails, with the server's own reason, and the others are still applied.
- `VersionConflict`: 409/412 on a write (someone else changed the object, or it already exists).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..errors import EXIT_FINDINGS, RemoteError

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0  # seconds per request
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
READ_METHODS = frozenset({"GET", "HEAD"})
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
    """401, or 403 on a read: the credential is missing, wrong or lacks rights. Stops the whole run."""


class Refused(RemoteError):
    """403 on a write: the server refused this one object for its own reason (kept in the message)."""


class VersionConflict(RemoteError):
    """409/412 on a write: the object changed since it was read, or already exists."""

    exit_code = EXIT_FINDINGS


def auth_message(service: str, url: str, status: int, credential: str, detail: str = "") -> str:
    """One line naming the credential to check; never the credential's value."""
    what = "rejected the credentials" if status == 401 else "denied access"
    more = f": {detail}" if detail else ""
    return f"{service} at {url} {what} (HTTP {status}{more}); check {credential}"


def classify_refusal(
    method: str, status: int, what: str, detail: str, *, service: str, url: str, credential: str
) -> RemoteError | None:
    """The error for a 401/403/409/412 answer, or None for any other status."""
    if status == 401 or (status == 403 and method.upper() in READ_METHODS):
        return AuthError(auth_message(service, url, status, credential, detail))
    if status == 403:
        return Refused(f"{what}: {service} refused it (HTTP 403): {detail}")
    if status in (409, 412):
        return VersionConflict(f"{what}: {service} answered HTTP {status}: {detail}")
    return None


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

    def call(self, operation: Callable[[], T]) -> T:
        """`run`, with the final TransientError turned into a RemoteError naming the attempts."""
        try:
            return self.run(operation)
        except TransientError as err:
            raise RemoteError(f"{err.message} (gave up after {self.attempts} attempts)") from None
