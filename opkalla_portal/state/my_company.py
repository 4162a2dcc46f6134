"""The My Company page: the company profile fields and the Submit handler."""

from __future__ import annotations

import reflex as rx

from opkalla_portal.services import company as company_service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.validation import ValidationFailed
from opkalla_portal.state.base import PortalState, guarded


def _blank() -> dict[str, str]:
    return {field: "" for field in company_service.COMPANY_FIELDS}


class CompanyState(PortalState):
    company_name: str = ""
    values: dict[str, str] = _blank()
    errors: dict[str, str] = _blank()
    loaded: bool = False
    revision: int = 0

    @guarded(Capability.COMPANY)
    def load(self, identity: Identity):
        company = company_service.get_company(identity)
        self.company_name = company.pop("name")
        self.values = company
        self.errors = _blank()
        self.loaded = True

    @guarded(Capability.COMPANY)
    def save(self, identity: Identity, form_data: dict):
        """Submit: validate everything, save all or nothing, confirm."""
        try:
            saved = company_service.update_company(identity, form_data)
        except ValidationFailed as failed:
            self.errors = {field: failed.errors.get(field, "") for field in company_service.COMPANY_FIELDS}
            return rx.toast.error("The company profile was not saved. Correct the highlighted fields.")
        self.company_name = saved.pop("name")
        self.values = saved
        self.errors = _blank()
        self.revision += 1
        return rx.toast.success("The company profile was saved.")
