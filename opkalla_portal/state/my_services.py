"""My Services: the Billing Contract drop-down and its subscriptions (add-ons folded under bases)."""

from __future__ import annotations

from opkalla_portal.services import subscriptions as service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.pricing import format_money
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.deltas import assign_changed

SORT_KEYS = {
    "name": lambda line: line.name.lower(),
    "quantity": lambda line: line.quantity,
    "renewal": lambda line: line.renewal_date.isoformat() if line.renewal_date else "",
    "price": lambda line: line.unit_price or 0,
    "status": lambda line: line.status,
}


def _row(line: service.SubscriptionLine, kind: str, expanded: bool) -> dict[str, str]:
    return {
        "id": line.id,
        "name": line.name,
        "kind": kind,
        "quantity": "" if line.is_usage_based else str(line.quantity),
        "term": line.term,
        "billing": line.billing,
        "status": line.status,
        "renewal": f"{line.renewal_date:%b %d, %Y}" if line.renewal_date else "",
        "price": "Usage-based"
        if line.is_usage_based
        else (format_money(line.unit_price) if line.unit_price is not None else "—"),
        "expandable": "1" if (line.addons or line.is_usage_based) and kind == "base" else "",
        "expanded": "1" if expanded else "",
        "addons": str(len(line.addons)),
        "azure": "1" if line.is_usage_based else "",
    }


class MyServicesState(PortalState):
    contracts: list[dict[str, str]] = []
    contract_id: str = ""
    rows: list[dict[str, str]] = []
    shown: int = 0
    total: int = 0
    search: str = ""
    sort_by: str = "name"
    sort_desc: bool = False
    loading: bool = True  # until the first answer, so no empty state flashes first
    error: str = ""
    _lines: list = []
    _expanded: list[str] = []

    def _publish(self) -> None:
        """The visible rows: bases matching the search (or with a matching add-on), sorted, expanded."""
        words = self.search.lower().split()

        def matches(line) -> bool:
            return all(w in line.name.lower() for w in words)

        key = SORT_KEYS[self.sort_by]
        rows: list[dict[str, str]] = []
        shown = 0
        for base in sorted(self._lines, key=key, reverse=self.sort_desc):
            hit_addons = [a for a in base.addons if matches(a)]
            if words and not matches(base) and not hit_addons:
                continue
            shown += 1
            open_ = base.id in self._expanded or bool(words and hit_addons and not matches(base))
            rows.append(_row(base, "base", open_))
            if open_:
                rows += [_row(a, "addon", False) for a in sorted(base.addons, key=key, reverse=self.sort_desc)]
                if base.is_usage_based:
                    rows.append({**_row(base, "usage", False), "name": "Usage Data"})
        assign_changed(self, rows=rows, shown=shown, total=len(self._lines))

    @guarded(Capability.SERVICES)
    def load(self, identity: Identity):
        """on_load: the contracts (?contract= picks one), then its subscriptions in the background."""
        assign_changed(
            self, contracts=[{"id": str(c.id), "label": c.label} for c in service.billing_contracts(identity)]
        )
        ids = [c["id"] for c in self.contracts]
        wanted = str(self.router.url.query_parameters.get("contract", "") or self.contract_id)
        self.contract_id = wanted if wanted in ids else (ids[0] if ids else "")
        return self._refetch()

    def _refetch(self):
        """The list is about to be read again: its loading indicator in this update (not a
        separate one from the background task), then `fetch`."""
        assign_changed(self, loading=bool(self.contract_id), error="")
        self._lines = []
        self._publish()
        return MyServicesState.fetch

    @guarded(Capability.SERVICES, background=True)
    async def fetch(self, identity: Identity):
        """The chosen contract's subscriptions from Microsoft (the loading indicator is already on)."""
        contract_id = self.contract_id  # read-only here: set by the event that queued this one
        if not contract_id:
            return None
        lines, error = [], ""
        try:
            lines = await service.contract_subscriptions(identity, contract_id)
        except PortalError as failure:  # shown in the page with Retry, not as a toast
            error = failure.message
        async with self:
            if self.contract_id == contract_id:  # the user may have switched meanwhile
                self._lines, self.error, self.loading = lines, error, False
                self._publish()
        return None

    @guarded(Capability.SERVICES)
    def set_contract(self, identity: Identity, value: str):
        """The "Billing Contract" drop-down."""
        value = str(value)
        if value not in {c["id"] for c in self.contracts} or value == self.contract_id:
            return None
        self.contract_id = value
        self._expanded = []
        return self._refetch()

    @guarded(Capability.SERVICES)
    def set_search(self, identity: Identity, value: str):
        self.search = str(value or "")[:100]
        self._publish()

    @guarded(Capability.SERVICES)
    def sort(self, identity: Identity, column: str):
        if column not in SORT_KEYS:
            return
        self.sort_desc = not self.sort_desc if self.sort_by == column else False
        self.sort_by = column
        self._publish()

    @guarded(Capability.SERVICES)
    def toggle(self, identity: Identity, subscription_id: str):
        """The plus sign beside a base subscription (its add-ons, or the Azure plan's Usage Data)."""
        if subscription_id not in {line.id for line in self._lines}:
            return
        self._expanded = sorted(set(self._expanded) ^ {subscription_id})
        self._publish()

    @guarded(Capability.SERVICES)
    def retry(self, identity: Identity):
        return self._refetch()
