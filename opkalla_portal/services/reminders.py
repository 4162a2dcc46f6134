"""Renewal reminders: emails 60, 30 and 7 days before a subscription renews at a cost.

Which renewals: active, licence-based subscriptions with auto-renew on. Skipped:
- monthly-term subscriptions with no change scheduled for renewal: they renew every month
  exactly as they are, so a reminder each month would be noise;
- auto-renew off: nothing is charged at the end of the term; the subscription simply ends
  (Subscription Edit says "Auto-renew is off"), so no reminder is sent;
- Azure plans (billed by usage) and subscriptions whose price is zero.
Who: active Administrators, Subscription Managers (they can change seats at renewal) and
Finance Managers (they pay the invoice) who kept "Renewal reminders" on in Profile.

Exactly once: a RenewalReminder row, unique per (subscription, renewal date, threshold), is
inserted in the same transaction as the emails; a second run, a restart or a second worker
hits the unique key and sends nothing. When the job was down across several thresholds only
the nearest one is sent (25 days before renewal: the 30-day reminder, never the 60-day one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.models import BillingContract, ContractSubscription, Organization, PortalUser, RenewalReminder
from opkalla_portal.services import notifications
from opkalla_portal.services.access import ROLE_CAPABILITIES, Capability
from opkalla_portal.services.catalog import load_catalog, unit_price_for
from opkalla_portal.services.mail import queue_mail
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.pricing import TERM_LABELS, format_money, monthly_cost
from opkalla_portal.services.subscriptions import renewal_day
from opkalla_portal.settings import load_settings

log = logging.getLogger(__name__)

THRESHOLDS = (7, 30, 60)  # days before the renewal, nearest first


def reminder_threshold(days_left: int) -> int | None:
    """The nearest threshold a renewal `days_left` away has reached (None: too far, or past)."""
    if days_left < 0:
        return None
    return next((threshold for threshold in THRESHOLDS if days_left <= threshold), None)


@dataclass(frozen=True)
class Renewal:
    subscription_id: str
    name: str
    renewal_date: date
    quantity: int  # seats at renewal (Microsoft's scheduled next-term quantity, if any)
    unit_price: Decimal
    term: str
    yearly_cost: Decimal


def renewal_of(subscription: dict, catalog: dict) -> Renewal | None:
    """The coming renewal of a Partner Center subscription, if it is one worth a reminder."""
    if str(subscription.get("status", "")).lower() != "active" or subscription.get("unitType") == "Usage-based":
        return None
    if not subscription.get("autoRenewEnabled") or not subscription.get("commitmentEndDate"):
        return None
    instructions = subscription.get("scheduledNextTermInstructions") or {}
    term = subscription.get("termDuration", "")
    if term == "P1M" and not instructions:
        return None  # renews monthly, unchanged: a reminder every month would be noise
    price = unit_price_for(catalog, subscription.get("offerId", ""), term, subscription.get("billingCycle", ""))
    quantity = int(instructions.get("quantity") or subscription.get("quantity") or 0)
    if not price or quantity <= 0:
        return None
    end = datetime.fromisoformat(str(subscription["commitmentEndDate"]).replace("Z", "+00:00")).date()
    return Renewal(
        subscription_id=subscription["id"],
        name=subscription.get("friendlyName") or subscription.get("offerName") or "Subscription",
        renewal_date=renewal_day(end),
        quantity=quantity,
        unit_price=price,
        term=TERM_LABELS.get(term, term),
        yearly_cost=monthly_cost(price, quantity) * 12,
    )


def due_reminders(subscriptions: list[dict], catalog: dict, today: date) -> list[tuple[Renewal, int]]:
    """(renewal, threshold) for each subscription whose renewal has reached a threshold today."""
    due = []
    for subscription in subscriptions:
        renewal = renewal_of(subscription, catalog)
        threshold = reminder_threshold((renewal.renewal_date - today).days) if renewal else None
        if renewal and threshold:
            due.append((renewal, threshold))
    return due


def _owned(organization_id: int, subscriptions: list[dict]) -> list[dict]:
    """The organization's subscriptions: mapped to its contracts, or add-ons of one that is."""
    with session_scope() as db:
        mapped = set(
            db.exec(
                select(ContractSubscription.subscription_id)
                .join(BillingContract, BillingContract.id == ContractSubscription.billing_contract_id)
                .where(BillingContract.organization_id == organization_id)
            ).all()
        )
    return [s for s in subscriptions if s["id"] in mapped or s.get("parentSubscriptionId") in mapped]


def _body(user: PortalUser, organization: Organization, renewal: Renewal, today: date) -> str:
    days = (renewal.renewal_date - today).days
    link = ""
    if Capability.SERVICES in ROLE_CAPABILITIES.get(user.web_role or "", frozenset()):
        link = (
            f"\nTo change the seats at renewal, open the subscription and choose On Renewal:\n"
            f"{load_settings().public_url}/my-services/edit?id={renewal.subscription_id}\n"
        )
    return (
        f"Hello {user.first_name},\n\n"
        f"{renewal.name} ({organization.name}) renews in {days} day{'s' if days != 1 else ''}, "
        f"on {renewal.renewal_date:%B %d, %Y}.\n\n"
        f"Quantity at renewal: {renewal.quantity}\n"
        f"Term: {renewal.term}\n"
        f"Unit price: {format_money(renewal.unit_price)} per license per month\n"
        f"Yearly cost: {format_money(renewal.yearly_cost)}\n{link}\n"
        f"You can turn renewal reminders off in Profile.\n"
    )


def send_reminder(organization: Organization, renewal: Renewal, threshold: int, today: date) -> bool:
    """Record the reminder and queue its emails in one transaction; False if it was already sent."""
    try:
        with session_scope() as db:
            reminder = RenewalReminder(
                organization_id=organization.id,
                subscription_id=renewal.subscription_id,
                renewal_date=renewal.renewal_date,
                days_before=threshold,
            )
            db.add(reminder)
            db.flush()  # the unique key decides here, before any email is queued
            users = notifications.recipients(db, organization.id, notifications.RENEWAL_REMINDERS)
            for user in users:
                queue_mail(
                    db,
                    organization_id=organization.id,
                    to=user.email,
                    subject=f"Renewal on {renewal.renewal_date:%b %d, %Y}: {renewal.name}",
                    body=_body(user, organization, renewal, today),
                    kind="renewal_reminder",
                )
            reminder.recipients = len(users)
            db.add(reminder)
    except IntegrityError:
        return False  # another run (or worker) sent it
    return True


async def run_renewal_reminders(today: date | None = None) -> int:
    """One pass over every customer organization; returns how many reminders were sent."""
    today = today or clock.today()
    with session_scope() as db:
        organizations = db.exec(
            select(Organization)
            .where(Organization.is_provider == False)  # noqa: E712
            .order_by(Organization.id)
        ).all()
    sent = 0
    for organization in organizations:
        try:
            subscriptions = await microsoft().partner_center.list_subscriptions(organization.tenant_id)
            catalog = await load_catalog()
        except MicrosoftError as error:  # one customer's outage must not stop the others
            log.warning("renewal reminders for organization %s skipped: %s", organization.id, error.message)
            continue
        for renewal, threshold in due_reminders(_owned(organization.id, subscriptions), catalog, today):
            sent += send_reminder(organization, renewal, threshold, today)
    return sent
