"""Names that go into a URL path (UIDs, rule namespaces and groups): one checked, encoded segment each.

A name read from out/ or from a server's answer is not trusted: `..` or `/` inside it would make a request
address another object (`DELETE .../rules/ns/..` is `DELETE .../rules`). HTTP clients build every path
segment with `safe_path_segment`.
"""

from __future__ import annotations

from urllib.parse import quote

from .errors import DefinitionError, LgtmError
from .model.uid import check_uid


def safe_path_segment(
    value: object, what: str, *, uid: bool = False, error: type[LgtmError] = DefinitionError
) -> str:
    """`value` as one percent-encoded path segment; never empty, `.` or `..`.

    `uid=True` also applies Grafana's UID rule (which leaves nothing to encode). `error` is the error raised,
    e.g. RemoteError for a name a server returned.
    """
    if uid:
        try:
            return check_uid(value, what)
        except DefinitionError as err:
            raise error(err.message) from None
    if not isinstance(value, str) or value in ("", ".", ".."):
        raise error(f"{what} {value!r} cannot be used in a URL path")
    return quote(value, safe="")
