"""Microsoft Graph v1.0 client: users, subscribed SKUs, license assignment, JSON batching."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .errors import MicrosoftError
from .http import RETRY_STATUSES, ServiceClient, error_for_status, parse_retry_after

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
MAX_BATCH = 20  # Graph's hard limit of requests per $batch
DEFAULT_USER_FIELDS = (
    "id",
    "displayName",
    "givenName",
    "surname",
    "userPrincipalName",
    "mail",
    "jobTitle",
    "department",
    "usageLocation",
    "accountEnabled",
    "assignedLicenses",
)


@dataclass(frozen=True)
class LicenseChange:
    """One user's license change (skuIds to add and to remove)."""

    user_id: str
    add_sku_ids: Sequence[str] = ()
    remove_sku_ids: Sequence[str] = ()
    disabled_plans: dict[str, Sequence[str]] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "addLicenses": [
                {"skuId": s, "disabledPlans": list(self.disabled_plans.get(s, ()))} for s in self.add_sku_ids
            ],
            "removeLicenses": list(self.remove_sku_ids),
        }


@dataclass
class DeltaRound:
    """One round of Graph's users delta, run to its end.

    ``full``: an initial round (no deltaLink was given, or Microsoft asked for a resync): ``users``
    holds every user and replaces what the caller held. Otherwise ``users`` holds the users that
    changed since the deltaLink, each to be merged into what the caller holds (Graph may send
    only some properties; a property it sends, null included, is the new value), and ``removed``
    the ids of deleted users. ``delta_link`` starts the next round."""

    users: dict[str, dict]
    removed: set[str]
    delta_link: str
    full: bool
    requests: int = 0


@dataclass
class BulkResult:
    """Outcome of one :class:`LicenseChange` inside a bulk operation."""

    change: LicenseChange
    status: int
    user: dict | None = None
    error: MicrosoftError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def user_id(self) -> str:
        return self.change.user_id


# Microsoft no longer has the state a delta token stands for: "410 (gone) ... the application
# must restart with a full synchronization" and, for an expired token, "a 40X-series error with
# error codes such as syncStateNotFound" (concepts/delta-query-overview.md). A 400 or 404 on a
# stored deltaLink also means the link is no good: start again rather than fail every open.
RESYNC_STATUSES = {400, 404, 410}


def _resync_needed(error: MicrosoftError) -> bool:
    return error.status in RESYNC_STATUSES


def _user_path(user_id: str) -> str:
    return "/users/" + quote(user_id, safe="@")


class GraphClient(ServiceClient):
    """Graph calls for one customer tenant (the token provider decides the tenant)."""

    flavor = "graph"

    # ------------------------------------------------------------------ users
    async def iter_user_pages(
        self, select: Iterable[str] = DEFAULT_USER_FIELDS, top: int = 100, filter: str | None = None
    ) -> AsyncIterator[list[dict]]:
        """Yield each page of users, following ``@odata.nextLink`` verbatim to the end."""
        params: dict[str, Any] | None = {"$select": ",".join(select), "$top": top}
        if filter:
            params["$filter"] = filter
        url = "/users"
        while url:
            page = await self.get_json(url, params=params)
            yield page.get("value", [])
            url = page.get("@odata.nextLink")
            params = None  # the nextLink already carries every query parameter

    async def list_users(
        self, select: Iterable[str] = DEFAULT_USER_FIELDS, top: int = 100, filter: str | None = None
    ) -> list[dict]:
        """Every user of the directory (all pages)."""
        users: list[dict] = []
        async for page in self.iter_user_pages(select, top, filter):
            users.extend(page)
        return users

    async def users_delta(
        self, select: Iterable[str] = DEFAULT_USER_FIELDS, delta_link: str | None = None
    ) -> DeltaRound:
        """Run a round of ``GET /users/delta`` to its end: from ``delta_link`` (the changes since
        the round that returned it), or a full round when there is none or Microsoft no longer
        knows it (410 Gone, "synchronization reset", or a refused token: the round starts again).
        ``$select`` goes in the first request only; links are followed verbatim (the tokens carry
        the query). Graph may repeat a user within a round: the later entry wins."""
        if delta_link:
            try:
                return await self._delta_round(delta_link, None, full=False)
            except MicrosoftError as error:
                if not _resync_needed(error):
                    raise
        return await self._delta_round("/users/delta", {"$select": ",".join(select)}, full=True)

    async def _delta_round(self, url: str, params: dict[str, Any] | None, *, full: bool) -> DeltaRound:
        users: dict[str, dict] = {}
        removed: set[str] = set()
        requests = 0
        while True:
            page = await self.get_json(url, params=params)
            requests += 1
            for entry in page.get("value", []):
                uid = str(entry.get("id", ""))
                if not uid:
                    continue
                if "@removed" in entry:
                    removed.add(uid)
                    users.pop(uid, None)
                    continue
                removed.discard(uid)
                users[uid] = {**users.get(uid, {}), **entry}
            params = None  # the links carry every query parameter
            if page.get("@odata.nextLink"):
                url = page["@odata.nextLink"]
                continue
            delta_link = page.get("@odata.deltaLink")
            if not delta_link:
                raise MicrosoftError(detail="users delta page without nextLink or deltaLink")
            return DeltaRound(users, set() if full else removed, delta_link, full, requests)

    async def get_user(self, user_id: str, select: Iterable[str] = DEFAULT_USER_FIELDS) -> dict:
        return await self.get_json(_user_path(user_id), params={"$select": ",".join(select)})

    # ------------------------------------------------------------- licensing
    async def subscribed_skus(self) -> list[dict]:
        """The tenant's SKUs with ``prepaidUnits`` and ``consumedUnits``."""
        return (await self.get_json("/subscribedSkus")).get("value", [])

    async def license_details(self, user_id: str) -> list[dict]:
        return (await self.get_json(_user_path(user_id) + "/licenseDetails")).get("value", [])

    async def assign_license(
        self, user_id: str, add_sku_ids: Sequence[str] = (), remove_sku_ids: Sequence[str] = ()
    ) -> dict:
        """Add and/or remove licenses for one user; returns the updated user."""
        change = LicenseChange(user_id, tuple(add_sku_ids), tuple(remove_sku_ids))
        response = await self.request(
            "POST",
            _user_path(user_id) + "/assignLicense",
            json=change.body(),
            # Re-adding an assigned license is a no-op in Graph, so safe to retry.
            idempotent=not remove_sku_ids,
        )
        return response.json()

    async def remove_license(self, user_id: str, sku_id: str) -> dict:
        return await self.assign_license(user_id, remove_sku_ids=[sku_id])

    # ------------------------------------------------------------- batching
    async def bulk_assign(
        self,
        changes: Sequence[LicenseChange],
        *,
        batch_size: int = MAX_BATCH,
        concurrency: int = 4,
        max_rounds: int = 10,
    ) -> list[BulkResult]:
        """Apply many license changes through JSON ``$batch``.

        Batches of ``batch_size`` (<= 20) run ``concurrency`` at a time. Each inner response
        is mapped back to its change by request id; inner 429/503 responses are resent
        after their ``Retry-After`` (only those, so every change is applied exactly once),
        up to ``max_rounds`` times: throttling is expected under bulk load, so it gets a
        larger budget than a single call.
        Results are returned in the order of ``changes``.
        """
        batch_size = max(1, min(batch_size, MAX_BATCH))
        results: list[BulkResult | None] = [None] * len(changes)
        gate = asyncio.Semaphore(max(1, concurrency))

        async def run(indexes: list[int]) -> None:
            async with gate:
                await self._run_batch(changes, indexes, results, max_rounds)

        chunks = [list(range(i, min(i + batch_size, len(changes)))) for i in range(0, len(changes), batch_size)]
        await asyncio.gather(*(run(c) for c in chunks))
        return [r for r in results if r is not None]

    async def _run_batch(
        self, changes: Sequence[LicenseChange], indexes: list[int], results: list[BulkResult | None], max_rounds: int
    ) -> None:
        pending = list(indexes)
        attempt = 0
        while pending:
            attempt += 1
            body = {
                "requests": [
                    {
                        "id": str(i),
                        "method": "POST",
                        "url": _user_path(changes[i].user_id) + "/assignLicense",
                        "headers": {"Content-Type": "application/json"},
                        "body": changes[i].body(),
                    }
                    for i in pending
                ]
            }
            try:
                response = await self.request("POST", "/$batch", json=body)
            except MicrosoftError as exc:
                if exc.status in RETRY_STATUSES and attempt < max_rounds:
                    # The whole batch was throttled/refused before running: send it again.
                    await self.retry.sleep(
                        min(exc.retry_after or self.retry.backoff(attempt), self.retry.max_retry_after)
                    )
                    continue
                # The whole batch failed: every change in it failed.
                for i in pending:
                    results[i] = BulkResult(changes[i], exc.status or 0, error=exc)
                return
            retry_later: list[int] = []
            wait = 0.0
            for item in response.json().get("responses", []):
                i = int(item["id"])
                status = int(item.get("status", 0))
                inner_body = item.get("body")
                if status in RETRY_STATUSES and attempt < max_rounds:
                    retry_later.append(i)
                    headers = {k.lower(): v for k, v in (item.get("headers") or {}).items()}
                    wait = max(wait, parse_retry_after(headers.get("retry-after")) or self.retry.backoff(attempt))
                elif status < 400:
                    results[i] = BulkResult(changes[i], status, user=inner_body)
                else:
                    err = (inner_body or {}).get("error", {}) if isinstance(inner_body, dict) else {}
                    results[i] = BulkResult(
                        changes[i], status, error=error_for_status(status, err.get("code"), err.get("message"))
                    )
            answered = {int(item["id"]) for item in response.json().get("responses", [])}
            for i in pending:  # a request the service never answered is a failure, not a silent gap
                if i not in answered and results[i] is None:
                    results[i] = BulkResult(changes[i], 0, error=MicrosoftError(detail="no response in $batch"))
            pending = retry_later
            if pending:
                await self.retry.sleep(min(wait, self.retry.max_retry_after))
