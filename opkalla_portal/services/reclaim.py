"""Reclaim on offboarding: a seat freed by a user's last license going, or held by a disabled
account, is offered back: reassign it to an unlicensed user, or schedule a decrease at renewal
(through Subscription Edit's path, mode On Renewal)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from opkalla_portal.services import licenses, subscriptions
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.licenses import DirectoryUser, LicenseError

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
    found = [Candidate(uid, users[uid].name, FREED) for uid in freed
             if uid in users and not users[uid].sku_ids and users[uid].enabled]
    found += [Candidate(u.id, u.name, DISABLED) for u in sorted(users.values(), key=lambda u: u.name.lower())
              if not u.enabled and u.holds(sku_id)]
    return found


def can_take(user: DirectoryUser, sku_id: str) -> bool:
    """Enabled, with a usage location (Graph requires one), not holding the product yet."""
    return user.enabled and bool(user.usage_location) and not user.holds(sku_id)


def reassign_options(users: Iterable[DirectoryUser], sku_id: str) -> list[DirectoryUser]:
    fit = [u for u in users if can_take(u, sku_id)]
    return sorted(fit, key=lambda u: u.name.lower())[:MAX_OPTIONS]


async def reassign(identity: Identity, *, sku_id: str, candidate: Candidate, to_user: str,
                   users: Mapping[str, DirectoryUser]) -> licenses.SubmitOutcome:
    """Move the seat: off the disabled account (if it holds one) and onto `to_user`, in one submit."""
    target = users.get(to_user)
    if target is None or not can_take(target, sku_id):
        raise LicenseError("Choose a user without this license to reassign the seat to.")
    pending = {to_user: True}
    if candidate.holds_seat:
        pending[candidate.user_id] = False
    return await licenses.apply_changes(identity, sku_id=sku_id, pending=pending, users=users)


async def schedule_decrease(identity: Identity, *, sku_id: str, seats: int = 1) -> subscriptions.ChangeOutcome:
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
        raise LicenseError(f"No subscription of {product.name} renews automatically, so there is no renewal "
                           "to reduce.")
    sub = min(renewing, key=lambda s: s.term_end)
    current = sub.renewal_quantity if sub.renewal_quantity is not None else sub.quantity
    return await subscriptions.submit_change(identity, sub.id, str(current - seats), "on_renewal", "", sub.etag)
