"""The check every My Services event handler makes first (handlers are a public API)."""

from __future__ import annotations

from opkalla_portal.services.access import Capability, PermissionDenied
from opkalla_portal.state.base import PortalState, refused


def denied(state: PortalState):
    """None when the signed-in user may use My Services; otherwise the refusal to return."""
    try:
        state._require(Capability.SERVICES)
    except PermissionDenied as error:
        return refused(error)
    return None
