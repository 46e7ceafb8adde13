"""Grafana's UID rule, shared by datasources, folders and dashboards."""

from __future__ import annotations

import re

from ..errors import DefinitionError

UID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
UID_MAX_LENGTH = 40


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
