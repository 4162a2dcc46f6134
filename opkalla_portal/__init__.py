"""The Opkalla Customer Portal (Reflex app: opkalla_portal/opkalla_portal.py)."""
