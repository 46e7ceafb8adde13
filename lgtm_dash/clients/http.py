"""What every HTTP client shares: retries with backoff, time limits, redirects, and the remote error kinds.

Only transient failures are retried: 429 (honouring Retry-After), 5xx, connection errors and a request
that got no complete answer in time. Everything else fails at once, because trying again cannot change
the answer: a TLS certificate that does not verify is never retried. How a refusal is classified decides
what the caller does with it (see docs/server-contract.md, rows G-AUTH and G-REFUSED):

- `AuthError`: 401 anywhere, or 403 on a read. The credential is wrong or lacks rights; no later request
  can succeed with it, so the whole run stops.
- `Refused`: 403 on a write. Grafana and Mimir answer 403 for reasons that have nothing to do with the
  token (a read-only datasource, a folder whose library panels are in use, a quota, a protected Mimir
  namespace): that one object fails, with the server's own reason, and the others are still applied.
- `VersionConflict`: 409/412 on a write (someone else changed the object, or it already exists).

Time: a request's socket timeout bounds each read, not the whole answer, so a server trickling one byte
every few seconds would hold a request forever. `within` bounds the whole request (headers and body), and
a run's `Deadline` (`--timeout`) bounds every request and every retry wait of the run (`OutOfTime`).

Redirects (`redirect_refusal`, applied by `clients.transport` to every client's requests): a write is never
redirected (its body holds secrets: a datasource password, a Slack
webhook URL), and nothing is ever redirected to another scheme, host or port; a read may follow a redirect on
the same origin. Anything else is a `RedirectRefused` naming only the target's origin.
"""

from __future__ import annotations

import queue
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..errors import EXIT_FINDINGS, RemoteError
from ..secrets import redact

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


class OutOfTime(RemoteError):
    """The run's time limit (`--timeout`) passed before this request could get its answer."""


class RedirectRefused(RemoteError):
    """The server redirected a write, or redirected anything to another origin: not followed."""


class TLSVerificationFailed(RemoteError):
    """The server's TLS certificate does not verify: retrying cannot change that."""


@dataclass(frozen=True)
class Deadline:
    """The moment (time.monotonic) after which no request of this run may still be waiting."""

    at: float
    seconds: float = 0.0  # the limit as the user gave it, for messages

    @classmethod
    def after(cls, seconds: float, *, start: float | None = None) -> Deadline:
        """`seconds` after `start` (a time.monotonic() reading; default: now)."""
        return cls((time.monotonic() if start is None else start) + seconds, seconds)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0

    def describe(self) -> str:
        return f"the time limit of {self.seconds:g} s (--timeout)"


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


def failed_answer(
    method: str,
    status: int,
    what: str,
    detail: str,
    *,
    service: str,
    url: str,
    credential: str,
    retry_after: str | None = None,
    refused_by: str | None = None,
) -> Exception:
    """What an unsuccessful answer raises, once the caller has handled the statuses it tolerates (a 404):
    a refusal (`classify_refusal`, naming `refused_by`, by default the service), a `TransientError` for a
    status worth retrying (with the `Retry-After` header's hint), else a `RemoteError`."""
    refusal = classify_refusal(
        method, status, what, detail, service=refused_by or service, url=url, credential=credential
    )
    if refusal is not None:
        return refusal
    message = f"{what}: {service} answered HTTP {status}: {detail}"
    if is_retryable_status(status):
        return TransientError(message, status, parse_retry_after(retry_after))
    return RemoteError(message)


def server_words(text: object, secrets: Mapping[str, str] | None, limit: int = 300) -> str:
    """What a server (or the HTTP library) said, safe to print: secrets redacted first, then one line."""
    cleaned = " ".join(redact(str(text), secrets).split())
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."


def is_tls_failure(err: BaseException) -> bool:
    """A certificate that does not verify (or another TLS failure): not worth a retry."""
    import ssl

    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) or type(current).__name__ == "SSLError":
            return True
        current = current.__cause__ or current.__context__
    return False


_waiting: set[threading.Event] = set()
_waiting_lock = threading.Lock()


class Abandoned(RemoteError):
    """The run stopped waiting for this request (Ctrl-C): its outcome is unknown."""


def abandon_requests() -> None:
    """Stop waiting for every request in flight (after Ctrl-C): each raises `Abandoned`."""
    with _waiting_lock:
        for done in _waiting:
            done.set()


class _Runner:
    """The helper thread `within` runs calls on: one per calling thread, reused from call to call (starting
    a thread per request cost a tenth of a no-op publish's CPU). A runner left behind by a call that
    overran is retired: it ends once that call returns."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.retired = False
        threading.Thread(target=self._loop, name="lgtm-dash-request", daemon=True).start()

    def _loop(self) -> None:
        while not self.retired:
            self.jobs.get()()


_runners = threading.local()


def within(seconds: float, call: Callable[[], T], what: str, on_timeout: Callable[[], None]) -> T:
    """`call()` bounded as a whole: a TransientError when no complete answer came within `seconds`.

    The call runs on a helper thread; one that overruns is abandoned (its socket timeout ends it later)
    and `on_timeout` lets the caller drop the connection it was using. `abandon_requests()` ends the
    wait at once with `Abandoned`.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as err:  # handed to the caller, whatever it is
            box["error"] = err
        finally:
            done.set()

    runner: _Runner | None = getattr(_runners, "runner", None)
    if runner is None:
        runner = _runners.runner = _Runner()
    with _waiting_lock:
        _waiting.add(done)
    try:
        runner.jobs.put(run)
        finished = done.wait(max(0.0, seconds))
    finally:
        with _waiting_lock:
            _waiting.discard(done)
    if "value" not in box and "error" not in box:  # still running: its runner cannot take the next call
        runner.retired = True
        runner.jobs.put(lambda: None)  # wakes it, should the call end without another job queued
        _runners.runner = None
        on_timeout()
        if not finished:
            raise TransientError(f"{what}: no complete answer within {seconds:.3g} s")
        raise Abandoned(f"{what}: no answer awaited, the run was interrupted")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def redirect_refusal(
    service: str,
    base_url: str,
    method: str,
    from_url: str,
    status: int,
    to_url: str,
    secrets: Mapping[str, str] | None = None,
) -> RedirectRefused | None:
    """None when `method` may follow this redirect (a read, to the same origin), else the error to raise."""
    method = method.upper()
    if method in READ_METHODS and _origin(to_url) == _origin(from_url):
        return None
    scheme, host, port = _origin(to_url)
    where = server_words(f"{scheme}://{host}:{port}", secrets)
    why = "a write is never redirected" if method not in READ_METHODS else "it is another origin"
    return RedirectRefused(
        f"{service} at {base_url} answered {method} {urlsplit(from_url).path} with HTTP "
        f"{status}, a redirect to {where}: not followed ({why}); "
        "point the URL in environments.yaml (or its environment variable) at the address that answers"
    )


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
    deadline: Deadline | None = None  # the run's time limit: no attempt or wait goes past it

    def request_timeout(self, timeout: float) -> float:
        """The time one request may take: `timeout`, or less when the run's limit comes sooner."""
        if self.deadline is None:
            return timeout
        return max(0.05, min(timeout, self.deadline.remaining()))

    def _out_of_time(self, what: str) -> OutOfTime:
        assert self.deadline is not None
        return OutOfTime(f"{what}: stopped at {self.deadline.describe()}")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def run(
        self,
        operation: Callable[[], T],
        on_retry: Callable[[TransientError], None] | None = None,
        *,
        what: str = "request",
    ) -> T:
        """Call `operation` until it returns or raises something other than TransientError.

        After the last attempt the final TransientError propagates for the caller to turn into a
        RemoteError (the caller knows which object and server it was talking to). With a `deadline`,
        no attempt starts and no wait ends after it: `OutOfTime` instead.
        """
        for attempt in range(max(1, self.attempts)):
            if self.deadline is not None and self.deadline.passed:
                raise self._out_of_time(what)
            try:
                return operation()
            except TransientError as err:
                if self.deadline is not None and self.deadline.passed:
                    raise self._out_of_time(err.message) from None
                if attempt + 1 >= max(1, self.attempts):
                    raise
                if on_retry is not None:
                    on_retry(err)
                wait = self.delay(attempt, err.retry_after)
                if self.deadline is not None and wait >= self.deadline.remaining():
                    raise self._out_of_time(err.message) from None
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def call(self, operation: Callable[[], T], *, what: str = "request") -> T:
        """`run`, with the final TransientError turned into a RemoteError naming the attempts."""
        try:
            return self.run(operation, what=what)
        except TransientError as err:
            raise RemoteError(f"{err.message} (gave up after {self.attempts} attempts)") from None
