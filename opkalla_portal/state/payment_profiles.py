"""Payment Profiles: list, add (tokenized in the browser), set default, remove.

The card number is never a state var: its input is not bound to state, and Add runs
assets/payment-tokenize.js, which posts the card to the processor and hands back only
the token, brand, last four digits and expiry (`card_tokenized`).
"""

from __future__ import annotations

import json
import os
from typing import TypedDict

import reflex as rx

from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.payments import (
    PaymentProfileError,
    add_profile,
    list_profiles,
    remove_profile,
    set_default,
)
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.deltas import assign_changed

# Where the browser sends the card: the demo processor on the portal's own origin, or the
# real processor's tokenization endpoint in production.
PROCESSOR_TOKENS_URL = os.environ.get("OPKALLA_PAYMENT_TOKENS_URL", "/payment-processor/v1/tokens")
FIELDS = ("number", "expiry", "cvc", "holder_name", "form")


class ProfileRow(TypedDict):
    id: int
    label: str
    brand: str
    last4: str
    expiry: str
    holder_name: str
    is_default: bool
    expired: bool


class PaymentsState(PortalState):
    profiles: list[ProfileRow] = []
    loaded: bool = False
    adding: bool = False  # the Add payment method dialog is open
    saving: bool = False
    errors: dict[str, str] = {}
    remove_id: int = 0  # the profile awaiting confirmation of removal (0: none)
    remove_label: str = ""

    def _refresh(self, identity) -> None:
        assign_changed(
            self,
            profiles=[
                ProfileRow(
                    id=p.id,
                    label=f"{p.brand} ending in {p.last4}",
                    brand=p.brand,
                    last4=p.last4,
                    expiry=f"{p.exp_month:02d}/{p.exp_year}",
                    holder_name=p.holder_name,
                    is_default=p.is_default,
                    expired=p.expired,
                )
                for p in list_profiles(identity)
            ],
        )
        self.loaded = True

    @guarded(Capability.PAYMENT_PROFILES)
    def load(self, identity: Identity):
        self.adding = self.saving = False
        self.remove_id = 0
        self._refresh(identity)

    @guarded(Capability.PAYMENT_PROFILES)
    def open_add(self, identity: Identity, open_: bool = True):
        self.adding = bool(open_)
        self.errors = {}
        self.saving = False

    @guarded(Capability.PAYMENT_PROFILES)
    def submit_card(self, identity: Identity):
        """Add: tokenize in the browser; only the processor's answer comes back."""
        self.saving = True
        self.errors = {}
        code = (
            f"import('/payment-tokenize.js').then((m) => m.tokenizeCard({json.dumps(PROCESSOR_TOKENS_URL)}))"
            ".catch(() => ({ok: false, errors: {form: 'The card form could not load. Reload the page.'}}))"
        )
        return rx.call_script(code, callback=PaymentsState.card_tokenized)

    @guarded(Capability.PAYMENT_PROFILES)
    async def card_tokenized(self, identity: Identity, result: dict):
        self.saving, self.errors = False, {}
        if not isinstance(result, dict) or not result.get("ok"):
            raw = result.get("errors") if isinstance(result, dict) else None
            errors = raw if isinstance(raw, dict) else {}
            self.errors = {key: str(value)[:200] for key, value in errors.items() if key in FIELDS} or {
                "form": "The card could not be added. Please try again."
            }
            return None
        try:
            added = await add_profile(identity, {key: result.get(key) for key in ("token", "holder_name")})
        except PaymentProfileError as error:
            self.errors = {error.field or "form": error.message}
            return None
        self.adding = False
        self._refresh(identity)
        return rx.toast.success(f"{added.brand} ending in {added.last4} was added.")

    @guarded(Capability.PAYMENT_PROFILES)
    def make_default(self, identity: Identity, profile_id: int):
        set_default(identity, profile_id)
        self._refresh(identity)
        chosen = next((p for p in self.profiles if p["id"] == profile_id), None)
        return rx.toast.success(f"{chosen['label'] if chosen else 'The card'} is now the default.")

    @guarded(Capability.PAYMENT_PROFILES)
    def ask_remove(self, identity: Identity, profile_id: int):
        """Open the confirmation for removing one of the listed profiles."""
        chosen = next((p for p in self.profiles if p["id"] == profile_id), None)
        self.remove_id = chosen["id"] if chosen else 0
        self.remove_label = chosen["label"] if chosen else ""

    @guarded(Capability.PAYMENT_PROFILES)
    def cancel_remove(self, identity: Identity, _open: bool = False):
        self.remove_id = 0

    @guarded(Capability.PAYMENT_PROFILES)
    def confirm_remove(self, identity: Identity):
        profile_id, label = self.remove_id, self.remove_label
        self.remove_id = 0
        try:
            remove_profile(identity, profile_id)  # a refusal reaches the guard as a toast
        finally:
            self._refresh(identity)
        return rx.toast.success(f"{label} was removed.")
