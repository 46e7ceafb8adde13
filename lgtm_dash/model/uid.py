r"""Grafana's UID rule, shared by datasources, folders and dashboards.

Grafana (grafana/grafana pkg/util/shortid_generator.go): `IsValidShortUID` accepts `^[a-zA-Z0-9\-\_]*$` and
`IsShortUIDTooLong` refuses more than 40 characters. Checked where a UID is declared, and again where it
becomes a file path (`artifacts.dashboard_path`) or is read back from out/, since a definition object can be
changed after it was built and out/ can be edited by hand.
"""

from __future__ import annotations

import re

from ..errors import DefinitionError

UID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
UID_MAX_LENGTH = 40


def is_valid_uid(uid: object) -> bool:
    return isinstance(uid, str) and 0 < len(uid) <= UID_MAX_LENGTH and UID_PATTERN.match(uid) is not None


def check_uid(uid: object, what: str, where: object = None) -> str:
    if not isinstance(uid, str) or not uid:
        raise DefinitionError(f"{what} needs a non-empty string uid, got {uid!r}", where)
    if len(uid) > UID_MAX_LENGTH:
        raise DefinitionError(
            f"{what} uid {uid!r} is {len(uid)} characters long (max {UID_MAX_LENGTH})", where
        )
    if not UID_PATTERN.match(uid):
        raise DefinitionError(f"{what} uid {uid!r} has characters outside [A-Za-z0-9_-]", where)
    return uid
