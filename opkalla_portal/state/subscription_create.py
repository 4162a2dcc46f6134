"""Subscription Create: the product and term chosen with Buy, quantity, start date and (for an
add-on) its base subscription; Submit places the order once (this form's idempotency key)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from urllib.parse import quote

import reflex as rx

from opkalla_portal import clock
from opkalla_portal.services import orders
from opkalla_portal.services import subscriptions as subscription_service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.pricing import format_money
from opkalla_portal.state.base import PortalState, guarded


class SubscriptionCreateState(PortalState):
    loading: bool = True  # until the first answer, so no empty state flashes first
    load_error: str = ""
    product: dict[str, str] = {}
    parents: list[dict[str, str]] = []
    quantity: str = "1"
    start_date: str = ""
    parent_id: str = ""
    errors: dict[str, str] = {"quantity": "", "start_date": "", "parent": ""}
    submitting: bool = False
    result: str = ""
    _request_id: str = ""  # the idempotency key of this form (MS-RequestId)
    _contract_id: str = ""
    _offer_id: str = ""
    _term_key: str = ""
    _unit_price: str = "0"

    @guarded(Capability.SERVICES, background=True)
    async def load(self, identity: Identity):
        """on_load: the product and term chosen with Buy; a fresh idempotency key for this form."""
        async with self:
            params = self.router.url.query_parameters
            contract_id, offer_id, term_key = (str(params.get(k, ""))[:120] for k in ("contract", "offer", "term"))
            self.loading, self.load_error, self.product, self.parents, self.result = True, "", {}, [], ""
            self.errors = {"quantity": "", "start_date": "", "parent": ""}
            self.submitting = False
            self._request_id = str(uuid.uuid4())
        product = term = contract = None
        parents: list[tuple[str, str]] = []
        error = ""
        try:
            contract = next(
                (c for c in subscription_service.billing_contracts(identity) if str(c.id) == contract_id), None
            )
            if contract is None:
                raise subscription_service.ServiceError("Choose a Billing Contract in the Product Catalog first.")
            product, term = await orders.offer(identity, offer_id, term_key)
            if product.is_addon:
                parents = await orders.base_subscriptions(identity, contract.id)
        except PortalError as failure:  # shown in place of the form
            error = failure.message
        async with self:
            self.loading, self.load_error = False, error
            if not error:
                self._contract_id, self._offer_id, self._term_key = contract_id, offer_id, term_key
                self._unit_price = str(term.price)
                self.product = {
                    "title": product.title,
                    "category": product.category,
                    "term": term.label,
                    "price": term.price_text,
                    "contract": contract.label,
                    "addon": "1" if product.is_addon else "",
                    "usage": "1" if product.is_usage_based else "",
                    "range": f"{product.minimum_quantity}–{product.maximum_quantity}",
                    "total": "",
                }
                self.parents = [{"id": pid, "name": name} for pid, name in parents]
                self.parent_id = parents[0][0] if len(parents) == 1 else ""
                self.quantity = str(product.minimum_quantity)
                self.start_date = f"{clock.today():%Y-%m-%d}"
                self._recompute()
        return None

    def _recompute(self) -> None:
        quantity = subscription_service.parse_quantity(self.quantity)
        if quantity is None or not self.product:
            self.product = {**self.product, "total": ""}
            return
        total = Decimal(self._unit_price) * quantity
        self.product = {**self.product, "total": format_money(total)}

    @guarded(Capability.SERVICES)
    def set_quantity(self, identity: Identity, value: str):
        self.quantity = str(value or "")[:12]
        self.errors = {**self.errors, "quantity": ""}
        self._recompute()

    @guarded(Capability.SERVICES)
    def set_start_date(self, identity: Identity, value: str):
        self.start_date = str(value or "")[:10]
        self.errors = {**self.errors, "start_date": ""}

    @guarded(Capability.SERVICES)
    def set_parent(self, identity: Identity, value: str):
        if str(value) in {p["id"] for p in self.parents}:
            self.parent_id = str(value)
            self.errors = {**self.errors, "parent": ""}

    @guarded(Capability.SERVICES, background=True)
    async def submit(self, identity: Identity):
        """Submit: place the order once; a repeated click or request reuses this form's key."""
        async with self:
            if self.submitting or not self.product or self.result:
                return None
            self.submitting = True
            kwargs = dict(
                contract_id=self._contract_id,
                offer_id=self._offer_id,
                term_key=self._term_key,
                quantity_text=self.quantity,
                start_text=self.start_date,
                parent_id=self.parent_id,
                request_id=self._request_id,
            )
        try:
            outcome = await orders.place_order(identity, **kwargs)
        except PortalError as failure:  # the form stays usable: Submit is enabled again below
            outcome = orders.OrderOutcome("failed", failure.message)
        async with self:
            self.submitting = False
            if outcome.status == "invalid":
                self.errors = {"quantity": "", "start_date": "", "parent": "", **outcome.errors}
                return rx.toast.error("Nothing was ordered. Correct the highlighted fields.")
            if outcome.status == "failed":
                return rx.toast.error(outcome.message)
            self.result = outcome.message
            if outcome.status == "held":  # nothing ordered until an approver approves it
                return [rx.toast.info("Sent for approval."), rx.redirect("/my-services/approval-requests")]
            target = (
                "/my-services/future-changes"
                if outcome.status == "scheduled"
                else f"/my-services?contract={quote(self._contract_id)}"
            )
            return [rx.toast.success(outcome.message), rx.redirect(target)]
