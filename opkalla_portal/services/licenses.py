"""Manage Licenses: the tenant's products and users from Graph, filtering, the seat guard, bulk changes.

Nothing here is fetched before the organization has consented (services.consent). The
full user list stays on the server; callers publish one filtered page of it. Changes are
sent as the difference from Microsoft's state, all removals answered before any addition is
sent (so a seat freed in the same submit can be reused whatever order Graph runs a batch in),
through Graph `$batch`, and every outcome is recorded
in the LicenseChange audit table.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import AuthError, MicrosoftError, UnavailableError
from opkalla_portal.microsoft.graph import LicenseChange as GraphLicenseChange
from opkalla_portal.microsoft.product_names import friendly_name
from opkalla_portal.models import LicenseChange
from opkalla_portal.services import consent, intents, tenant_cache, tenant_directory
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.errors import PortalError, microsoft_errors
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.read_back import read_back

USER_FIELDS = (
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
    "department",
    "usageLocation",
    "accountEnabled",
    "assignedLicenses",
    "licenseAssignmentStates",
)
# Needs AuditLog.Read.All (and Entra ID P1 at Microsoft): asked for only by license insight,
# so a tenant without it can still manage licenses.
SIGN_IN_FIELD = "signInActivity"
log = logging.getLogger(__name__)
SUBMIT_CHUNK = 160  # changes per progress step: 8 batches of 20
STATUS_FILTERS = ("all", "licensed", "unlicensed")


class ConsentRequired(PortalError):
    """The organization has not (or no longer) granted the portal's Microsoft permissions."""

    code_default = "consent.required"


class LicenseError(PortalError):
    """A change the portal refuses before calling Microsoft; the message is safe to show."""

    code_default = "license.refused"


@dataclass(frozen=True)
class Product:
    sku_id: str
    part_number: str
    name: str
    purchased: int
    assigned: int
    subscription_ids: tuple[str, ...] = ()  # Partner Center subscriptions selling this SKU

    @property
    def available(self) -> int:
        return max(0, self.purchased - self.assigned)


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    name: str
    email: str
    department: str
    usage_location: str
    sku_ids: frozenset[str]
    enabled: bool = True
    # The later of the last interactive and non-interactive sign-in; None: never (or unknown).
    last_sign_in: datetime | None = None
    # Licenses a group assigns and no direct assignment does: skuId -> the group's name.
    # Graph refuses to remove those with assignLicense; they change in the group.
    via_group: tuple[tuple[str, str], ...] = ()

    def holds(self, sku_id: str) -> bool:
        return sku_id in self.sku_ids

    def group_for(self, sku_id: str) -> str | None:
        """The group's name when `sku_id` is held only through a group, else None."""
        return next((name for sku, name in self.via_group if sku == sku_id), None)


@dataclass(frozen=True)
class Failure:
    user_id: str
    name: str
    reason: str


@dataclass
class SubmitOutcome:
    assigned: int = 0
    unassigned: int = 0
    failures: list[Failure] = field(default_factory=list)
    batch_id: str = ""

    @property
    def succeeded(self) -> int:
        return self.assigned + self.unassigned


def _ensure_consented(identity: Identity) -> None:
    with session_scope() as db:
        if not consent.is_consented(db, identity):
            raise ConsentRequired("Your organization has not granted consent yet.")


def _consent_lost(identity: Identity, error: AuthError) -> ConsentRequired:
    """Graph refused for lack of consent (revoked in Entra): forget it so the pop-up returns."""
    if error.code == "Authorization_RequestDenied":
        with session_scope() as db:
            consent.revoke_recorded_consent(db, identity)
        return ConsentRequired("Microsoft reports that consent was removed. A Global Admin must grant it again.")
    raise error


def _graph(identity: Identity):
    return microsoft().graph(identity.tenant_id)


async def list_products(identity: Identity, *, fresh: bool = False) -> list[Product]:
    """The tenant's user-assignable products with purchased, assigned and available seats
    (for display from the per-tenant cache; `fresh`: from Microsoft now)."""
    require(identity, Capability.LICENSES)
    _ensure_consented(identity)
    graph = _graph(identity)
    with microsoft_errors():
        try:
            if fresh:
                skus = await graph.subscribed_skus()
            else:
                skus = await tenant_cache.cached(
                    microsoft(), identity.tenant_id, tenant_cache.LICENSES, graph.subscribed_skus, variant="skus"
                )
        except AuthError as error:
            raise _consent_lost(identity, error) from error
    products = [
        Product(
            sku_id=str(sku["skuId"]).lower(),
            part_number=sku.get("skuPartNumber") or "",
            name=friendly_name(sku.get("skuPartNumber") or sku["skuId"]),
            purchased=int((sku.get("prepaidUnits") or {}).get("enabled") or 0),
            assigned=int(sku.get("consumedUnits") or 0),
            subscription_ids=tuple(str(i) for i in sku.get("subscriptionIds") or []),
        )
        for sku in skus
        if sku.get("appliesTo", "User") == "User" and sku.get("capabilityStatus", "Enabled") != "Deleted"
    ]
    return sorted(products, key=lambda p: p.name.lower())


async def get_product(identity: Identity, sku_id: object) -> Product:
    """One product of the tenant, by an id that arrived from the browser."""
    if not isinstance(sku_id, str) or not sku_id or len(sku_id) > 64:
        raise LicenseError("That product could not be found.")
    for product in await list_products(identity, fresh=True):
        if product.sku_id == sku_id.lower():
            return product
    raise LicenseError("That product could not be found.")


def _parse_time(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def last_sign_in(activity: object) -> datetime | None:
    """The later of Graph's lastSignInDateTime and lastNonInteractiveSignInDateTime."""
    if not isinstance(activity, dict):
        return None
    times = [
        t
        for t in (
            _parse_time(activity.get("lastSignInDateTime")),
            _parse_time(activity.get("lastNonInteractiveSignInDateTime")),
        )
        if t
    ]
    return max(times) if times else None


def group_only_licenses(u: dict) -> dict[str, str]:
    """skuId -> group id for the licenses only a group assigns (Graph licenseAssignmentStates:
    assignedByGroup is the group's id, null for a direct assignment)."""
    by_group: dict[str, str] = {}
    direct: set[str] = set()
    for state in u.get("licenseAssignmentStates") or ():
        sku = str(state.get("skuId", "")).lower()
        if state.get("assignedByGroup"):
            by_group.setdefault(sku, str(state["assignedByGroup"]))
        else:
            direct.add(sku)
    return {sku: group for sku, group in by_group.items() if sku not in direct}


_NO_SKUS: frozenset[str] = frozenset()


def _directory_user(u: dict, group_names: Mapping[str, str] | None = None) -> DirectoryUser:
    """Graph's user as the portal shows it. Run for every user of a full read (5,000 and more):
    each part is computed once, and only when the user has it."""
    licenses = u.get("assignedLicenses")
    only_group = group_only_licenses(u) if u.get("licenseAssignmentStates") else None
    names = group_names or {}
    activity = u.get(SIGN_IN_FIELD)
    return DirectoryUser(
        id=str(u["id"]),
        name=u.get("displayName") or u.get("userPrincipalName") or "(no name)",
        email=u.get("mail") or u.get("userPrincipalName") or "",
        department=u.get("department") or "",
        usage_location=u.get("usageLocation") or "",
        sku_ids=frozenset(str(lic.get("skuId", "")).lower() for lic in licenses) if licenses else _NO_SKUS,
        enabled=u.get("accountEnabled") is not False,
        last_sign_in=last_sign_in(activity) if activity else None,
        via_group=tuple(sorted((sku, names.get(group) or "a group") for sku, group in only_group.items()))
        if only_group
        else (),
    )


def _sorted(users: Iterable[DirectoryUser]) -> list[DirectoryUser]:
    return sorted(users, key=lambda u: (u.name.lower(), u.id))


async def list_directory(identity: Identity, *, with_sign_in: bool = False) -> list[DirectoryUser]:
    """Every user of the tenant, sorted by name; with sign-in activity if asked.

    Without sign-in activity it comes from the directory this worker holds for the tenant
    (services/tenant_directory.py), brought up to date by one Graph users delta round: Microsoft
    is asked only for what changed since the last read. With it, the whole directory is read
    (Graph's delta cannot select signInActivity).
    Microsoft's failures leave as MicrosoftFailure (with_sign_in: a refusal of that field too,
    code "microsoft.auth"; the caller asks again without it, which tells consent apart)."""
    require(identity, Capability.LICENSES)
    _ensure_consented(identity)
    graph = _graph(identity)
    with microsoft_errors():
        try:
            if not with_sign_in:
                return await _held_directory(identity, graph)
            raw = await graph.list_users(select=(*USER_FIELDS, SIGN_IN_FIELD), top=999)
        except AuthError as error:
            if with_sign_in:  # perhaps only signInActivity was refused (no AuditLog.Read.All or no
                raise  # Entra ID P1/P2)
            raise _consent_lost(identity, error) from error
        names = await _group_names(graph, _group_ids(raw))
    return _sorted(_directory_user(u, names) for u in raw)


def _group_ids(raw: Iterable[dict]) -> set[str]:
    return {g for u in raw if u.get("licenseAssignmentStates") for g in group_only_licenses(u).values()}


async def _held_directory(identity: Identity, graph) -> list[DirectoryUser]:
    entry = tenant_directory.held(microsoft(), identity.tenant_id)
    async with entry.lock:
        refreshed = await tenant_directory.refresh(entry, graph, USER_FIELDS)
        fresh = refreshed.full or "users" not in entry.views
        touched = entry.raw.values() if fresh else [entry.raw[uid] for uid in refreshed.changed if uid in entry.raw]
        if fresh:  # a full read: group names are read again too (a group may have been renamed)
            entry.group_names = {}
        unknown = _group_ids(touched) - entry.group_names.keys()
        if unknown:
            names = await _group_names(graph, unknown)
            entry.group_names.update({group: names.get(group, "") for group in unknown})
        if fresh:
            _rebuild_all(entry)
        elif refreshed.changed or refreshed.removed:
            _rebuild(entry, refreshed.changed, refreshed.removed)
        if "sorted" not in entry.views:
            entry.views["sorted"] = tuple(_sorted(entry.views["users"].values()))
        if tenant_directory.full_read_due(entry):
            entry.background = asyncio.ensure_future(_read_in_full(entry, graph))
        return list(entry.views["sorted"])


async def _read_in_full(entry: tenant_directory.HeldDirectory, graph) -> None:
    """The periodic full read, in the background: what users delta does not track
    (licenseAssignmentStates, group names) is read again; opens meanwhile are not held up."""
    try:
        begun = tenant_directory.begin_full_read(entry)
        answer = await graph.users_delta(USER_FIELDS)
        names = await _group_names(graph, _group_ids(answer.users.values()))
        async with entry.lock:
            tenant_directory.install_full_read(entry, answer, USER_FIELDS, begun)
            entry.group_names = {group: names.get(group, "") for group in _group_ids(entry.raw.values())}
            _rebuild_all(entry)
    except Exception as error:  # noqa: BLE001 - a background refresh: the next one tries again
        log.warning("full directory read for tenant %s failed: %s", entry.tenant_id, error)
    finally:
        entry.background = None


def _rebuild_all(entry: tenant_directory.HeldDirectory) -> None:
    entry.views["users"] = {uid: _directory_user(u, entry.group_names) for uid, u in entry.raw.items()}
    entry.views.pop("sorted", None)


def _rebuild(entry: tenant_directory.HeldDirectory, changed: Iterable[str], removed: Iterable[str] = ()) -> None:
    users = entry.views.get("users")
    if users is None:
        return
    for uid in removed:
        users.pop(uid, None)
    for uid in changed:
        if uid in entry.raw:
            users[uid] = _directory_user(entry.raw[uid], entry.group_names)
    entry.views.pop("sorted", None)


async def _group_names(graph, group_ids: Iterable[str]) -> dict[str, str]:
    """displayName of each licensing group (GET /groups/{id}, up to 8 at a time); a group that
    cannot be read keeps no name (the window then says "via a group")."""
    names: dict[str, str] = {}
    gate = asyncio.Semaphore(8)

    async def read(group_id: str) -> None:
        async with gate:
            try:
                group = await graph.get_json(f"/groups/{group_id}", params={"$select": "id,displayName"})
            except MicrosoftError:
                return
        if isinstance(group, dict) and group.get("displayName"):
            names[group_id] = str(group["displayName"])

    await asyncio.gather(*(read(g) for g in sorted(group_ids)))
    return names


def departments(users: Iterable[DirectoryUser]) -> list[str]:
    return sorted({u.department for u in users if u.department}, key=str.lower)


def filter_users(
    users: Iterable[DirectoryUser], *, sku_id: str, search: str = "", status: str = "all", department: str = ""
) -> list[DirectoryUser]:
    """Users matching the search (name or email), Microsoft's license state and the department."""
    needle = search.strip().lower()
    result = []
    for user in users:
        if status == "licensed" and not user.holds(sku_id):
            continue
        if status == "unlicensed" and user.holds(sku_id):
            continue
        if department and user.department != department:
            continue
        if needle and needle not in user.name.lower() and needle not in user.email.lower():
            continue
        result.append(user)
    return result


def seats_left(available: int, pending: Mapping[str, bool]) -> int:
    """Seats free once the pending toggles apply: available − additions + removals."""
    adds = sum(1 for on in pending.values() if on)
    return available - adds + (len(pending) - adds)


def toggle(pending: dict[str, bool], user: DirectoryUser, sku_id: str, on: bool, available: int) -> dict[str, bool]:
    """The pending diff after switching `user` on or off; refuses to go beyond the seats.

    A toggle back to Microsoft's current state removes the entry, so only differences remain.
    """
    group = user.group_for(sku_id)
    if group is not None:
        raise LicenseError(f"{user.name} has this license via group {group}. Change it in that group.")
    updated = dict(pending)
    if on == user.holds(sku_id):
        updated.pop(user.id, None)
    else:
        updated[user.id] = on
    if on and seats_left(available, updated) < 0:
        raise LicenseError("No licenses left to assign. Turn another user off or buy more licenses.")
    return updated


ProgressCallback = Callable[[int, int], Awaitable[None]]


async def apply_changes(
    identity: Identity,
    *,
    sku_id: object,
    pending: Mapping[str, bool],
    users: Mapping[str, DirectoryUser],
    on_progress: ProgressCallback | None = None,
) -> SubmitOutcome:
    """Send the pending differences to Microsoft and record each result.

    `users` is the server-side directory the diff was built on; ids not in it are ignored.
    Successes stand even when others fail; failures carry Microsoft's reason.
    """
    require(identity, Capability.LICENSES)
    product = await get_product(identity, sku_id)  # current counts, and the id checked under this tenant
    changes = {
        uid: on
        for uid, on in pending.items()
        if uid in users
        and isinstance(on, bool)
        and on != users[uid].holds(product.sku_id)
        and users[uid].group_for(product.sku_id) is None
    }  # a group's license changes in the group
    if not changes:
        raise LicenseError("There are no changes to submit.")
    if seats_left(product.available, changes) < 0:
        count = "1 license is" if product.available == 1 else f"{product.available} licenses are"
        raise LicenseError(f"Only {count} available for {product.name}. Turn some users off or buy more licenses.")
    # Removals first, so seats they free can be used by additions in the same submit. Graph
    # runs the requests of a $batch (and concurrent batches) in no guaranteed order, so the
    # additions are only sent once every removal has been answered: a chunk never mixes them.
    removals = [(uid, on) for uid, on in changes.items() if not on]
    additions = [(uid, on) for uid, on in changes.items() if on]
    ordered = removals + additions
    chunks = [removals[i : i + SUBMIT_CHUNK] for i in range(0, len(removals), SUBMIT_CHUNK)]
    chunks += [additions[i : i + SUBMIT_CHUNK] for i in range(0, len(additions), SUBMIT_CHUNK)]
    outcome = SubmitOutcome(batch_id=uuid.uuid4().hex)
    graph = _graph(identity)
    done = 0
    if on_progress:
        await on_progress(0, len(ordered))
    for number, chunk in enumerate(chunks):
        requests = [
            GraphLicenseChange(
                uid, add_sku_ids=(product.sku_id,) if on else (), remove_sku_ids=() if on else (product.sku_id,)
            )
            for uid, on in chunk
        ]
        # Committed before the batch: if the process dies after Graph acted, the reconciler
        # (services/intents.py) writes this chunk's audit rows from the users' licenses.
        key = f"{outcome.batch_id}-{number}"
        intents.begin(
            identity,
            intents.LICENSE_ASSIGNMENT,
            key,
            {
                "sku_id": product.sku_id,
                "product_name": product.name,
                "batch_id": outcome.batch_id,
                "changes": [[uid, on, users[uid].name] for uid, on in chunk],
            },
        )
        try:
            results = await graph.bulk_assign(requests, concurrency=8)
            errors = {r.user_id: r.error for r in results}
        except MicrosoftError as error:  # e.g. the token could not be obtained: the whole chunk failed
            errors = {uid: error for uid, _ in chunk}
        finally:  # seat counts and the insight's idle figures changed (or may have)
            tenant_cache.invalidate(identity.tenant_id, tenant_cache.LICENSES)
        errors = await _confirm_unanswered(graph, product.sku_id, chunk, errors)
        _show_in_held_directory(identity, product.sku_id, chunk, errors)
        await intents.pause_for_kill_test(intents.LICENSE_ASSIGNMENT)
        _record(identity, product, chunk, users, errors, outcome, key)
        done += len(chunk)
        if on_progress:
            await on_progress(done, len(ordered))
    return outcome


def _show_in_held_directory(
    identity: Identity, sku_id: str, chunk: list[tuple[str, bool]], errors: Mapping[str, MicrosoftError | None]
) -> None:
    """What Microsoft accepted shows in the directory this worker holds at once (Graph's delta
    may lag behind); after a failure the next read is a full one."""
    done = {uid: on for uid, on in chunk if uid in errors and errors[uid] is None}
    failed = len(done) < len(chunk)
    entry_changed = tenant_directory.applied(microsoft(), identity.tenant_id, sku_id, done, failed=failed)
    if entry_changed:
        _rebuild(tenant_directory.held(microsoft(), identity.tenant_id), entry_changed)


async def _confirm_unanswered(
    graph, sku_id: str, chunk: list[tuple[str, bool]], errors: Mapping[str, MicrosoftError | None]
) -> dict[str, MicrosoftError | None]:
    """A change Microsoft did not answer (timeout, 5xx) may still have been carried out: read
    those users back, so the audit records what Microsoft actually holds. Stops at the first
    user Microsoft cannot tell us about (an outage): the rest stay failed, not waited on."""
    confirmed = dict(errors)
    gate = asyncio.Semaphore(8)
    unreachable = False

    async def check(uid: str, on: bool) -> None:
        nonlocal unreachable
        async with gate:
            if unreachable:
                return
            user = await read_back(lambda: graph.get_user(uid, select=("id", "assignedLicenses")))
        if user is None:
            unreachable = True  # still unknown: recorded as failed, with Microsoft's message
            return
        holds = any(str(lic.get("skuId", "")).lower() == sku_id for lic in user.get("assignedLicenses") or [])
        if holds == on:
            confirmed[uid] = None

    await asyncio.gather(*(check(uid, on) for uid, on in chunk if isinstance(errors.get(uid), UnavailableError)))
    return confirmed


def _record(
    identity: Identity,
    product: Product,
    chunk: list[tuple[str, bool]],
    users: Mapping[str, DirectoryUser],
    errors: Mapping[str, MicrosoftError | None],
    outcome: SubmitOutcome,
    intent_key: str,
) -> None:
    with session_scope() as db:
        recorded = intents.finish(db, intent_key)  # False: a reconciler wrote these rows already
        for uid, on in chunk:
            user = users[uid]
            error = errors.get(uid, MicrosoftError(detail="no result"))
            if error is None:
                if on:
                    outcome.assigned += 1
                else:
                    outcome.unassigned += 1
            else:
                outcome.failures.append(Failure(uid, user.name, error.message))
            if not recorded:
                continue
            db.add(
                LicenseChange(
                    organization_id=identity.organization_id,
                    actor_user_id=identity.user_id,
                    actor_name=identity.display_name,
                    target_user_id=uid,
                    target_user_name=user.name[:200],
                    sku_id=product.sku_id,
                    product_name=product.name[:200],
                    action="assign" if on else "unassign",
                    result="succeeded" if error is None else "failed",
                    message="" if error is None else (error.message or "")[:1000],
                    batch_id=outcome.batch_id,
                )
            )


def with_applied(user: DirectoryUser, sku_id: str, on: bool) -> DirectoryUser:
    """The user as Microsoft now has them after a successful change."""
    skus = set(user.sku_ids)
    if on:
        skus.add(sku_id)
    else:
        skus.discard(sku_id)
    return replace(user, sku_ids=frozenset(skus))
