"""The portal's web roles, by the names customers see (services/access.py maps them to capabilities)."""

ROLE_ADMINISTRATOR = "Work365 Administrator"
ROLE_SUBSCRIPTION_MANAGER = "Work 365 Subscription Manager"
ROLE_FINANCE_MANAGER = "Work365 Finance Manager"
