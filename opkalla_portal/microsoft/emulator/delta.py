"""Graph's ``GET /users/delta`` as the emulator serves it, from the change history the store's
triggers keep (store.py, table ``changes``).

What Microsoft documents, and the emulator does (sources: microsoftgraph/microsoft-graph-docs-contrib
``api-reference/v1.0/api/user-delta.md``, ``concepts/delta-query-overview.md``,
``concepts/delta-query-users.md``; see docs/microsoft.md "users delta"):

- A round is one or more GETs: every page but the last carries ``@odata.nextLink`` (only a
  ``$skiptoken``), the last ``@odata.deltaLink`` (only a ``$deltatoken``). Query parameters are
  given in the first request only and travel inside the tokens, which are opaque (here: signed,
  so a token the client changed is refused).
- The initial round returns every current user; a round from a deltaLink returns the users with
  a change to a tracked, selected property since, each with every selected property (a property
  never set, null here, is left out unless it changed to null; ``Prefer: return=minimal``: only
  the changed ones), and deleted users as ``{"id", "@removed": {"reason": "changed"}}``. Nothing
  changed: one page, an empty ``value`` and a new deltaLink.
- ``$select`` chooses what is tracked. ``licenseAssignmentStates`` may be selected but its
  changes are not tracked ("Changes to the licenseAssignmentStates property are currently not
  tracked", user: delta on Microsoft Learn); ``signInActivity`` is refused (400, observed:
  microsoftgraph/microsoft-graph-explorer-v4#3189). ``$top`` is not supported for users and is
  ignored (observed; pages of 200 as observed in microsoft-graph-docs-contrib#6786), ``$expand``
  and ``$orderby`` are refused; ``$filter`` (Microsoft: only ``id eq``) is refused here, stricter.
- ``$deltatoken=latest`` answers only a deltaLink ("sync from now").
- Tokens last 7 days for directory objects; an older one, or one issued before the emulator's
  world was reset, answers 410 Gone with a Location to start again ("Synchronization reset";
  code syncStateNotFound as the overview names for expired tokens; Microsoft's exact status and
  code for users are not documented).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from opkalla_portal import clock

DELTA_PAGE = 200
TOKEN_LIFETIME = timedelta(days=7)
NOT_SELECTABLE = ("signInActivity",)
REFUSED_OPTIONS = ("$expand", "$orderby", "$filter", "$search", "$count", "$skip")


class TokenRefused(Exception):
    def __init__(self, status: int, code: str, message: str, select: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.select = status, code, message, select


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_token(tx, state: dict[str, Any]) -> str:
    payload = _b64(json.dumps(state, separators=(",", ":")).encode())
    signature = hmac.new(tx.meta("delta_key").encode(), payload.encode(), hashlib.sha256).digest()[:18]
    return f"{payload}.{_b64(signature)}"


def decode_token(tx, token: str, tenant: str, kind: str) -> dict[str, Any]:
    """The state a token of `kind` ("skip" or "delta") carries; TokenRefused when it is not one
    of ours of that kind for this tenant (400), or too old or from before a reset (410)."""
    try:
        payload, signature = token.split(".", 1)
        expected = hmac.new(tx.meta("delta_key").encode(), payload.encode(), hashlib.sha256).digest()[:18]
        if not hmac.compare_digest(_unb64(signature), expected):
            raise ValueError("signature")
        state = json.loads(_unb64(payload))
    except (ValueError, TypeError, AttributeError) as error:
        raise TokenRefused(400, "Request_BadRequest", "The delta token is not valid.") from error
    if state.get("t") != tenant or state.get("k") != kind:  # a token belongs to the tenant that asked for it
        raise TokenRefused(400, "Request_BadRequest", "The delta token is not valid.")
    issued = clock.parse(str(state.get("at", "1970-01-01T00:00:00Z")))
    if state.get("e") != tx.meta("delta_epoch") or clock.now() - issued > TOKEN_LIFETIME:
        raise TokenRefused(
            410, "syncStateNotFound", "The sync state is not found or has expired; start a new round.", state.get("sel")
        )
    return state


def current_seq(tx) -> int:
    row = tx.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'user_changes'").fetchone()
    return int(row[0]) if row else 0


# Not tracked by Microsoft: a change to only these does not bring the user into a round.
UNTRACKED = frozenset({"licenseAssignmentStates", "signInActivity"})


def changes_page(tx, tenant: str, since: int, upto: int, after: int, limit: int) -> list[tuple[str, int, list]]:
    """Users written in (since, upto], ordered by their last write, after `after`: (id, last
    write, the user before each of those writes, oldest first: a dict, or None where it did not
    exist)."""
    rows = tx.conn.execute(
        "SELECT id, MAX(seq) FROM user_changes WHERE tenant = ? AND seq > ? AND seq <= ? "
        "GROUP BY id HAVING MAX(seq) > ? ORDER BY MAX(seq) LIMIT ?",
        (tenant, since, upto, after, limit),
    ).fetchall()
    before: dict[str, list] = {uid: [] for uid, _ in rows}
    ids = list(before)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = (
            "SELECT id, old FROM user_changes WHERE tenant = ? AND seq > ? AND seq <= ? "
            f"AND id IN ({','.join('?' * len(chunk))}) ORDER BY seq"
        )
        for uid, old in tx.conn.execute(query, (tenant, since, upto, *chunk)):
            before[uid].append(json.loads(old) if old else None)
    return [(uid, int(last), before[uid]) for uid, last in rows]


def changed_properties(before: list, now: dict) -> set[str]:
    """The tracked properties some write changed, from the user before each write and now
    ('*': created, or deleted and created again, in the window). A property changed and changed
    back counts as changed: Graph tracks writes, not the difference."""
    if any(state is None for state in before):
        return {"*"}
    changed: set[str] = set()
    for old, new in zip(before, [*before[1:], now], strict=True):
        changed |= {k for k in old.keys() | new.keys() if k not in UNTRACKED and old.get(k) != new.get(k)}
    return changed


def link(base: str, name: str, token: str) -> str:
    return f"{base}/users/delta?{name}={quote(token, safe='')}"


def restart_link(base: str, select: list[str] | None) -> str:
    """The Location of a 410: the initial request again (an empty $deltatoken, as Microsoft's
    is described), with the round's $select."""
    url = f"{base}/users/delta?$deltatoken="
    return url + ("&$select=" + ",".join(select) if select else "")


def issued_at() -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
