"""One module per page; importing this package registers them all."""

from opkalla_portal.pages import (  # noqa: F401
    approval_requests,
    approvals,
    billing_runs,
    catalog,
    change_logs,
    future_changes,
    home,
    invoice_detail,
    manage_licenses,
    manage_users,
    my_agreements,
    my_company,
    my_invoices,
    my_services,
    news_editor,
    news_post,
    outbox,
    partner_center,
    payment_profiles,
    profile,
    sign_in,
    subscription_create,
    subscription_edit,
    support,
    support_article,
    usage_data,
    user_edit,
)

ALL_PAGES = [
    page
    for module in (home, my_services, my_agreements, my_invoices, invoice_detail, payment_profiles, usage_data,
                   my_company, manage_users, user_edit, outbox, manage_licenses, support, support_article,
                   profile, sign_in, news_post, news_editor,
                   subscription_edit, change_logs, future_changes, catalog, subscription_create, approvals,
                   approval_requests, billing_runs, partner_center)
    for page in module.PAGES
]
