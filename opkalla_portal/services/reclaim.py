"""Reclaim on offboarding: a seat freed by a user's last license going, or held by a disabled
account, is offered back: reassign it to an unlicensed user, or schedule a decrease at renewal
(through Subscription Edit's path, mode On Renewal)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from opkalla_portal.models import ChangeMode
from opkalla_portal.services import licenses, quantity_change, subscriptions
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.errors import PortalError, microsoft_errors
from opkalla_portal.services.licenses import ConsentRequired, DirectoryUser, LicenseError
from opkalla_portal.services.subscriptions import ChangeOutcome, Outcome

MAX_SHOWN = 20
MAX_OPTIONS = 200
FREED = "No licenses left"
DISABLED = "Account disabled"


@dataclass(frozen=True)
class Candidate:
    user_id: str
    name: str
    reason: str  # FREED | DISABLED

    @property
    def holds_seat(self) -> bool:
        """A disabled account still holds the license; a freed seat is already free."""
        return self.reason == DISABLED


def candidates(users: Mapping[str, DirectoryUser], sku_id: str, freed: Iterable[str]) -> list[Candidate]:
    """Users who just lost their last license (any product), then disabled accounts holding this one."""
    found = [
        Candidate(uid, users[uid].name, FREED)
        for uid in freed
        if uid in users and not users[uid].sku_ids and users[uid].enabled
    ]
    found += [
        Candidate(u.id, u.name, DISABLED)
        for u in sorted(users.values(), key=lambda u: u.name.lower())
        if not u.enabled and u.holds(sku_id)
    ]
    return found


def can_take(user: DirectoryUser, sku_id: str) -> bool:
    """Enabled, with a usage location (Graph requires one), not holding the product yet."""
    return user.enabled and bool(user.usage_location) and not user.holds(sku_id)


def reassign_options(users: Iterable[DirectoryUser], sku_id: str) -> list[DirectoryUser]:
    fit = [u for u in users if can_take(u, sku_id)]
    return sorted(fit, key=lambda u: u.name.lower())[:MAX_OPTIONS]


async def reassign(
    identity: Identity, *, sku_id: str, candidate: Candidate, to_user: str, users: Mapping[str, DirectoryUser]
) -> licenses.SubmitOutcome:
    """Move the seat: off the disabled account (if it holds one) and onto `to_user`, in one submit."""
    target = users.get(to_user)
    if target is None or not can_take(target, sku_id):
        raise LicenseError("Choose a user without this license to reassign the seat to.")
    pending = {to_user: True}
    if candidate.holds_seat:
        pending[candidate.user_id] = False
    return await licenses.apply_changes(identity, sku_id=sku_id, pending=pending, users=users)


async def schedule_decrease(identity: Identity, *, sku_id: str, seats: int = 1) -> ChangeOutcome:
    """One seat fewer at the next renewal of the product's subscription renewing first."""
    require(identity, Capability.SERVICES)
    product = await licenses.get_product(identity, sku_id)
    renewing = []
    for subscription_id in product.subscription_ids:
        try:
            sub = await subscriptions.load_subscription(identity, subscription_id)
        except subscriptions.ServiceError:
            continue  # not one of this organization's subscriptions
        if sub.status == "active" and sub.auto_renew and not sub.is_usage_based:
            renewing.append(sub)
    if not renewing:
        raise LicenseError(f"No subscription of {product.name} renews automatically, so there is no renewal to reduce.")
    sub = min(renewing, key=lambda s: s.term_end)
    current = sub.renewal_quantity if sub.renewal_quantity is not None else sub.quantity
    return await quantity_change.submit_change(
        identity, sub.id, str(current - seats), ChangeMode.ON_RENEWAL, "", sub.etag
    )


# What reclaim may meet that the user should read (licenses' own refusals are PortalErrors
# once Manage Licenses' services are converted; listed until then).
_REFUSALS = (PortalError, LicenseError, ConsentRequired)


@dataclass(frozen=True)
class ReclaimOutcome:
    message: str  # what was done ("" when refused)
    error: str  # why not ("" when done)
    removed: bool  # the disabled account's license is gone, whatever happened next


async def run(
    identity: Identity,
    action: str,
    *,
    candidate: Candidate,
    to_user: str,
    sku_id: str,
    users: Mapping[str, DirectoryUser],
) -> ReclaimOutcome:
    """Apply the chosen reclaim: "reassign" the seat to `to_user` (through Graph), or free it
    and decrease the subscription by one seat On Renewal (Subscription Edit's path)."""
    removed = False
    try:
        with microsoft_errors():
            if action == "reassign":
                outcome = await reassign(identity, sku_id=sku_id, candidate=candidate, to_user=to_user, users=users)
                if outcome.failures:  # removals go first: the old holder may have lost it anyway
                    failed = {f.user_id for f in outcome.failures}
                    return ReclaimOutcome(
                        "",
                        "; ".join(f"{f.name}: {f.reason}" for f in outcome.failures),
                        candidate.holds_seat and candidate.user_id not in failed,
                    )
                return ReclaimOutcome(
                    f"The seat of {candidate.name} now belongs to {users[to_user].name}.", "", candidate.holds_seat
                )
            if candidate.holds_seat:
                outcome = await licenses.apply_changes(
                    identity, sku_id=sku_id, pending={candidate.user_id: False}, users=users
                )
                if outcome.failures:
                    return ReclaimOutcome("", outcome.failures[0].reason, False)
                removed = True
            change = await schedule_decrease(identity, sku_id=sku_id)
    except _REFUSALS as error:
        return ReclaimOutcome("", str(error), removed)
    if change.status != Outcome.SCHEDULED:
        reason = next(iter(change.errors.values()), change.message) if change.errors else change.message
        return ReclaimOutcome("", f"The decrease was not scheduled: {reason}", removed)
    return ReclaimOutcome(change.message, "", removed)
