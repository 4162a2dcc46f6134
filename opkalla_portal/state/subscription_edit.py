"""Subscription Edit: Quantity, Change Effective (Immediately / On Renewal / Custom), Effective Date."""

from __future__ import annotations

import logging

import reflex as rx

from opkalla_portal import clock
from opkalla_portal.models import MODE_LABELS, ChangeMode
from opkalla_portal.services import quantity_change as service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.pricing import BILLING_LABELS, TERM_LABELS, format_money
from opkalla_portal.services.subscriptions import DONE, EditableSubscription, Outcome, load_subscription
from opkalla_portal.state.base import PortalState, guarded

log = logging.getLogger(__name__)

MODE_BY_LABEL = {label: mode for mode, label in MODE_LABELS.items()}
NO_ERRORS = {"quantity": "", "mode": "", "effective_date": "", "form": ""}
NO_EFFECT = {"current": "", "new": "", "difference": "", "prorated": "", "note": ""}


def _describe(sub: EditableSubscription) -> dict[str, str]:
    now = clock.now()
    renewal_day = sub.renewal_day
    if sub.assigned is not None:
        assigned = f"{sub.assigned} of {sub.quantity}"
    else:
        assigned = "Not available"
    return {
        "id": sub.id,
        "name": sub.name,
        "contract": sub.contract_name,
        "quantity": str(sub.quantity),
        "term": f"{TERM_LABELS.get(sub.term_duration, sub.term_duration)} term, billed "
        f"{BILLING_LABELS.get(sub.billing_cycle, sub.billing_cycle).lower()}",
        "term_dates": f"{sub.term_start:%b %d, %Y} – {sub.term_end:%b %d, %Y}",
        "renewal": f"{renewal_day:%b %d, %Y}" if sub.auto_renew else "Auto-renew is off",
        "unit_price": f"{format_money(sub.unit_price)} per license per month",
        "assigned": assigned,
        "assigned_note": sub.assigned_note,
        "window": (
            f"Seats can be reduced until {sub.window_ends_at:%b %d, %Y %H:%M} UTC."
            if sub.in_window(now)
            else f"Seats can be added now; reductions take effect On Renewal ({renewal_day:%b %d, %Y})."
        ),
        "renewal_quantity": str(sub.renewal_quantity) if sub.renewal_quantity is not None else "",
        "status": sub.status.capitalize(),
        "editable": "1" if sub.status == "active" and not sub.is_usage_based else "",
        "min_date": f"{now.date():%Y-%m-%d}",
        "max_date": f"{sub.term_end:%Y-%m-%d}",
    }


class SubscriptionEditState(PortalState):
    loading: bool = True  # until the first answer, so no empty state flashes first
    load_error: str = ""
    sub: dict[str, str] = {}
    quantity: str = ""
    mode_label: str = ChangeMode.IMMEDIATELY.label
    effective_date: str = ""
    errors: dict[str, str] = NO_ERRORS
    # field -> code of its error (what the page offers beside it: On Renewal, Manage Licenses).
    error_codes: dict[str, str] = NO_ERRORS
    effect: dict[str, str] = NO_EFFECT
    conflict: str = ""
    result: str = ""
    result_kind: str = ""  # succeeded | scheduled | failed | held (waiting for approval)
    submitting: bool = False
    _sub: object = None

    def _set_sub(self, sub: EditableSubscription) -> None:
        self._sub = sub
        self.sub = _describe(sub)

    def _recompute(self) -> None:
        """The price effect of what the form says now (blank while the quantity is not a number)."""
        shown = (
            None
            if self._sub is None
            else service.preview(
                self._sub, self.quantity, MODE_BY_LABEL.get(self.mode_label), self.effective_date, today=clock.today()
            )
        )
        if shown is None:
            self.effect = NO_EFFECT
            return
        effect = shown.effect
        if shown.mode == ChangeMode.ON_RENEWAL:
            note = f"No charge now: the new quantity is billed from the renewal on {shown.effective:%b %d, %Y}."
        elif effect.prorated >= 0:
            note = f"Charged for the {effect.days_left} days left in the current term."
        else:
            note = f"Credited for the {effect.days_left} days left in the current term."
        self.effect = {
            "current": format_money(effect.current_monthly),
            "new": format_money(effect.new_monthly),
            "difference": ("+" if effect.monthly_difference > 0 else "") + format_money(effect.monthly_difference),
            "prorated": format_money(effect.prorated),
            "note": note,
        }

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.errors = {**NO_ERRORS, **{name: str(message) for name, message in errors.items()}}
        self.error_codes = {**NO_ERRORS, **service.codes_of(errors)}

    @guarded(Capability.SERVICES, background=True)
    async def load(self, identity: Identity):
        """on_load: the subscription named by ?id=, fresh from Microsoft."""
        async with self:
            subscription_id = str(self.router.url.query_parameters.get("id", ""))[:64]
            self.loading, self.load_error, self.sub, self._sub = True, "", {}, None
            self.errors, self.effect, self.conflict, self.result, self.result_kind = NO_ERRORS, NO_EFFECT, "", "", ""
            self.error_codes, self.submitting = NO_ERRORS, False
        sub, error = None, ""
        try:
            sub = await load_subscription(identity, subscription_id)
        except PortalError as failure:  # shown as the page's error state
            error = failure.message
        async with self:
            self.loading, self.load_error = False, error
            if sub is not None:
                self._set_sub(sub)
                self.quantity = str(sub.quantity)
                self.mode_label = ChangeMode.IMMEDIATELY.label
                self.effective_date = ""
                self._recompute()
        return None

    def _clear(self, *fields: str) -> None:
        self.errors = {**self.errors, **{name: "" for name in fields}}
        self.error_codes = {**self.error_codes, **{name: "" for name in fields}}

    @guarded(Capability.SERVICES)
    def set_quantity(self, identity: Identity, value: str):
        self.quantity = str(value or "")[:12]
        self._clear("quantity", "form")
        self._recompute()

    def _apply_mode(self, label: str) -> None:
        self.mode_label = label
        self._clear("mode", "effective_date", "form")
        self._recompute()

    @guarded(Capability.SERVICES)
    def set_mode(self, identity: Identity, value: str):
        if value in MODE_BY_LABEL:
            self._apply_mode(value)

    @guarded(Capability.SERVICES)
    def set_effective_date(self, identity: Identity, value: str):
        self.effective_date = str(value or "")[:10]
        self._clear("effective_date")
        self._recompute()

    @guarded(Capability.SERVICES)
    def choose_on_renewal(self, identity: Identity):
        """The "Change On Renewal instead" offer after a refused decrease."""
        self._apply_mode(ChangeMode.ON_RENEWAL.label)

    @guarded(Capability.SERVICES, background=True)
    async def submit(self, identity: Identity):
        """Submit: apply now, or record for renewal or the custom date; never twice at once."""
        async with self:
            if self.submitting or self._sub is None:
                return None
            self.submitting, self.result, self.result_kind, self.conflict = True, "", "", ""
            sub = self._sub
            args = (sub.id, self.quantity, MODE_BY_LABEL.get(self.mode_label, ""), self.effective_date, sub.etag)
        try:
            outcome = await service.submit_change(identity, *args)
        except PortalError as failure:
            outcome = service.ChangeOutcome(Outcome.FAILED, failure.message)
        except Exception:  # never leave the form stuck in "submitting"
            log.exception("Subscription change %s failed unexpectedly", args[0])
            outcome = service.ChangeOutcome(
                Outcome.FAILED,
                "The change could not be completed. Reload the page to "
                "see the subscription's current quantity before trying "
                "again.",
            )
        fresh = None
        if outcome.status in DONE:
            try:
                fresh = await load_subscription(identity, args[0])
            except PortalError:
                fresh = None
        async with self:
            self.submitting = False
            self._show_errors(outcome.errors)
            if outcome.status == Outcome.INVALID:
                if outcome.subscription is not None:
                    self._set_sub(outcome.subscription)
                return rx.toast.error("Nothing was changed. Correct the highlighted fields.")
            if outcome.status == Outcome.CONFLICT:
                self._set_sub(outcome.subscription)
                self.conflict = outcome.message
                self._recompute()
                return None
            self.result, self.result_kind = outcome.message, str(outcome.status)
            if outcome.status == Outcome.HELD:  # nothing changed at Microsoft: keep the form as submitted
                return rx.toast.info("Sent for approval.")
            if fresh is not None:
                self._set_sub(fresh)
                self.quantity = str(fresh.quantity) if outcome.status == Outcome.SUCCEEDED else self.quantity
            self._recompute()
            if outcome.status == Outcome.FAILED:
                return rx.toast.error(outcome.message)
            return rx.toast.success(outcome.message)
