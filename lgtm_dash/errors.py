"""One error family with user-facing, one-line messages; the CLI prints them without a traceback."""

from __future__ import annotations

# Exit codes shared by every command (see README).
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_REMOTE = 3
EXIT_INTERNAL = 70  # a bug in lgtm-dash (BSD sysexits EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class LgtmError(Exception):
    """Base class: `str(err)` is the complete one-line message shown to the user."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, location: object | None = None):
        self.message = " ".join(str(message).split())  # always one line
        self.location = location
        super().__init__(f"{location}: {self.message}" if location else self.message)


class DefinitionError(LgtmError):
    """A definition (Python module, environments.yaml, out/ artifact) is wrong. Exit 2."""


class UsageError(LgtmError):
    """The command line is wrong. Exit 2."""


class RemoteError(LgtmError):
    """Grafana or Mimir failed or refused a request. Exit 3."""

    exit_code = EXIT_REMOTE
