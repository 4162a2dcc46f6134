"""The Reflex app: pages and the portal's HTTP routes (the theme is set in rxconfig.py).

The composition root: the one place (with cli.py) that chooses the deployment, so production
modules never ask whether they run as the demo.
"""

import reflex as rx

from opkalla_portal.api import build_api
from opkalla_portal.pages import ALL_PAGES
from opkalla_portal.services.catalog import warm_catalog
from opkalla_portal.services.scheduler import scheduler_loop
from opkalla_portal.settings import load_settings
from opkalla_portal.state.base import SessionBoundState
from opkalla_portal.state.page_load import on_load_for
from opkalla_portal.state.redis_lock import install as install_redis_lock_fix

TITLE_SUFFIX = " | Opkalla Customer Portal"

if load_settings().demo_mode:
    from opkalla_portal.demo.wiring import install

    install()  # before the routes are built: the demo serves its stand-ins beside them

install_redis_lock_fix()  # before the app makes its state manager: a cancelled event never strands a tab's lock

app = rx.App(
    stylesheets=["/portal.css"],
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
    api_transformer=build_api(),
)

# A tab's state belongs to the session that filled it (see state/base.py): checked first.
app.add_middleware(SessionBoundState(), index=0)

for page in ALL_PAGES:
    for route, title in ((page.route, page.title), *page.aliases):
        # The guard and the page's own handlers as one event (state/page_load.py).
        app.add_page(page.component, route=route, title=title + TITLE_SUFFIX, on_load=on_load_for(route, page.on_load))

# Applies due Future Changes (exactly once across workers; see services/scheduler.py).
app.register_lifespan_task(scheduler_loop)
# Prices on My Services come from Partner Center's catalog: fetch it before the first visitor.
app.register_lifespan_task(warm_catalog)
