"""Spark AI answers from the signed-in customer's own account.

"When does our Business Premium renew?", "How many unassigned Microsoft 365 licenses do we
have?", "What was our last invoice total?", "Who are our Finance Managers?", "Is anything
waiting for my approval?" are answered from live data through the same services the pages
use (so production and the demo take the same path), and only when the user's role may see
that page: each topic names the capability of the page that shows it (the one table in
`services/access.py`); without it the user is told why, and which roles can see it. Every
answer links to the page that shows the figures.

A question is an account question only when it asks about *our/my* data and is not a how-to
question ("How do I see which invoices are unpaid?" is answered from the help articles).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal

from opkalla_portal import clock, vocabulary
from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.roles import ROLE_ADMINISTRATOR, ROLE_FINANCE_MANAGER, ROLE_SUBSCRIPTION_MANAGER
from opkalla_portal.services import approvals, invoices, licenses, users
from opkalla_portal.services.access import (
    MENU,
    ROLE_CAPABILITIES,
    ROLE_DESCRIPTIONS,
    Capability,
    Identity,
    PermissionDenied,
    require,
)
from opkalla_portal.services.insight_report import active_seat_subscriptions
from opkalla_portal.services.money import format_money
from opkalla_portal.services.subscriptions import _line as subscription_line

HOW_TO = re.compile(
    r"\bhow (?:do|can|could|should|would|to)\b|\bhow does\b|\bwhere (?:do|can|is|are|would)\b|"
    r"\bwhat (?:does|do) .* mean\b|\bwhy\b|\bcan i\b|\bis it possible\b|\bsteps?\b|\bexplain\b",
    re.IGNORECASE,
)
OURS = re.compile(r"\b(?:our|ours|we|my|me|us|i)\b", re.IGNORECASE)
MAX_LISTED = 5


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class AccountAnswer:
    """What Spark AI says, and the page(s) that show it (empty when the role may not see them)."""

    text: str
    links: list[Link] = field(default_factory=list)
    topic: str = ""


def _page(capability: Capability) -> Link:
    item = next(i for i in MENU if i.capability == capability)
    return Link(item.label, item.route)


def _role_label(role: str) -> str:
    return role.replace("Work 365", "Work365")


def not_allowed(identity: Identity, capability: Capability, what: str) -> AccountAnswer:
    """Why this role cannot see it, and who can (from the one capability table)."""
    page = _page(capability)
    allowed = [_role_label(r) for r, caps in ROLE_CAPABILITIES.items() if capability in caps]
    role = identity.role or "no web role"
    mine = ROLE_DESCRIPTIONS.get(identity.role or "", "has no access to account pages")
    return AccountAnswer(
        f"I can't show {what}: your role, {_role_label(role)}, {mine}, and {page.title} is not part of it. "
        f"{' and '.join(f'{r}s' for r in allowed)} can see it — ask one of them, or ask your portal "
        f"administrator for that role.",
        [],
        topic="refused",
    )


# --- the topics ---------------------------------------------------------------------------


async def _renewals(identity: Identity, question: str) -> AccountAnswer:
    raw, catalog = await active_seat_subscriptions(identity)
    lines = [subscription_line(sub, catalog) for sub in raw]
    q = set(vocabulary.concepts(question))
    generic = set(vocabulary.concepts("microsoft 365 subscription renew plan license when does our"))
    wanted = q - generic
    named = [line for line in lines if wanted and wanted <= set(vocabulary.concepts(line.name)) | generic]
    lead = ""
    if wanted and not named:  # "our Business Premium" and there is none: say so, then list them all
        asked = " ".join(w for w in re.findall(r"[\w']+", question) if vocabulary.concept(w.lower()) in wanted).strip()
        lead = f"None of your subscriptions is called {asked}. " if asked else ""
    chosen = named or lines
    renewing = sorted((line for line in chosen if line.renewal_date), key=lambda r: (r.renewal_date, r.name))
    page = _page(Capability.SERVICES)
    if not chosen:
        return AccountAnswer("You have no active subscriptions.", [page], "renewals")
    if not renewing:
        what = f"{chosen[0].name} does not renew" if len(chosen) == 1 else "None of your subscriptions renews"
        return AccountAnswer(f"{lead}{what} automatically (auto-renew is off).", [page], "renewals")
    parts = [
        f"{r.name} ({r.quantity} {'license' if r.quantity == 1 else 'licenses'}, {r.term or 'term'}) "
        f"renews on {r.renewal_date:%B} {r.renewal_date.day}, {r.renewal_date:%Y}"
        for r in renewing[:MAX_LISTED]
    ]
    more = f" …and {len(renewing) - MAX_LISTED} more." if len(renewing) > MAX_LISTED else ""
    return AccountAnswer(lead + "; ".join(parts) + "." + more, [page], "renewals")


async def _unassigned_licenses(identity: Identity, question: str) -> AccountAnswer:
    page = _page(Capability.LICENSES)
    try:
        products = await licenses.list_products(identity)
    except licenses.ConsentRequired:
        return AccountAnswer(
            "I can't read your licenses yet: your organization has not granted the portal "
            "consent to read them. Open Manage Licenses to grant or request it.",
            [page],
            "licenses",
        )
    q = set(vocabulary.concepts(question))
    generic = set(vocabulary.concepts("how many unassigned unused spare available free licenses seats do we have left"))
    wanted = q - generic
    named = [
        p
        for p in products
        if wanted
        and wanted & set(vocabulary.concepts(f"{p.name} {p.part_number}"))
        and not wanted - set(vocabulary.concepts(f"{p.name} {p.part_number} microsoft 365"))
    ]
    chosen = named or products
    if not chosen:
        return AccountAnswer("Your tenant has no user licenses.", [page], "licenses")
    parts = [
        f"{p.name}: {p.available} unassigned of {p.purchased} ({p.assigned} assigned)" for p in chosen[:MAX_LISTED]
    ]
    total = sum(p.available for p in chosen)
    lead = (
        f"You have {total} unassigned {'license' if total == 1 else 'licenses'}"
        + (f" across {len(chosen)} products" if len(chosen) > 1 else "")
        + ". "
    )
    return AccountAnswer(lead + "; ".join(parts) + ".", [page], "licenses")


async def _last_invoice(identity: Identity, question: str) -> AccountAnswer:
    page = _page(Capability.INVOICES)
    today = clock.today()
    rows = invoices.list_invoices(identity, tab=invoices.OPEN, today=today) + invoices.list_invoices(
        identity, tab=invoices.PAID, today=today
    )
    if not rows:
        return AccountAnswer("You have no invoices yet.", [page], "last_invoice")
    # One invoice per billing contract: the last invoicing day may have several.
    newest = max(r.invoice_date for r in rows)
    last = sorted((r for r in rows if r.invoice_date == newest), key=lambda r: r.invoice_id)
    day = f"{newest:%B} {newest.day}, {newest:%Y}"
    if len(last) == 1:
        return AccountAnswer(
            f"Your last invoice, {last[0].invoice_id} of {day}, totals {_invoice_amount(last[0])}.",
            [page],
            "last_invoice",
        )
    total = sum((r.total for r in last), Decimal("0.00"))
    parts = "; ".join(f"{r.invoice_id} {_invoice_amount(r)}" for r in last)
    return AccountAnswer(
        f"Your last invoices, of {day} (one per billing contract), total {format_money(total)}: {parts}.",
        [page],
        "last_invoice",
    )


def _invoice_amount(row) -> str:
    """ "$594.88 (Open, $594.88 due November 30)": the total, status and what is still due."""
    due = f", {format_money(row.balance)} due {row.due_date:%B} {row.due_date.day}" if row.balance > 0 else ""
    return f"{format_money(row.total)} ({row.status}{due})"


async def _unpaid_invoices(identity: Identity, question: str) -> AccountAnswer:
    page = _page(Capability.INVOICES)
    rows = invoices.list_invoices(identity, tab=invoices.OPEN, today=clock.today(), sort="due_date", descending=False)
    if not rows:
        return AccountAnswer("All your invoices are paid: nothing is open.", [page], "unpaid_invoices")
    balance = sum((r.balance for r in rows), Decimal("0.00"))
    overdue = [r for r in rows if r.status == "Overdue"]
    parts = [
        f"{r.invoice_id} ({format_money(r.balance)}, due {r.due_date:%B} {r.due_date.day}"
        f"{', overdue' if r.status == 'Overdue' else ''})"
        for r in rows[:MAX_LISTED]
    ]
    return AccountAnswer(
        f"You have {len(rows)} open {'invoice' if len(rows) == 1 else 'invoices'} with {format_money(balance)} "
        f"to pay" + (f", {len(overdue)} overdue" if overdue else "") + ": " + "; ".join(parts) + ".",
        [page],
        "unpaid_invoices",
    )


ROLE_WORDS = {  # a role, and the concept that names it in a question
    ROLE_FINANCE_MANAGER: (vocabulary.concept("finance"),),
    ROLE_SUBSCRIPTION_MANAGER: (vocabulary.concept("subscription"),),
    ROLE_ADMINISTRATOR: (vocabulary.concept("administrator"),),
}


async def _people_in_role(identity: Identity, question: str) -> AccountAnswer:
    page = _page(Capability.USERS)
    q = set(vocabulary.concepts(question))
    role = next((r for r, words in ROLE_WORDS.items() if q & set(words)), None)
    active = users.list_users(identity)["active"]
    people = [u for u in active if u["role"] == role]
    label = _role_label(role or "")
    if not people:
        return AccountAnswer(f"No active portal user has the {label} role.", [page], "roles")
    names = ", ".join(f"{u['name']} ({u['email']})" for u in people[: MAX_LISTED * 2])
    return AccountAnswer(f"Your {label}{'s are' if len(people) > 1 else ' is'}: {names}.", [page], "roles")


async def _waiting_approvals(identity: Identity, question: str) -> AccountAnswer:
    page = _page(Capability.APPROVALS)
    waiting = [r for r in approvals.open_requests(identity) if r.status == "pending"]
    if not waiting:
        return AccountAnswer("Nothing is waiting for approval.", [page], "approvals")
    parts = [
        f"{r.requested_by_name or 'A Subscription Manager'} asks for {approvals.describe_change(r)}"
        for r in waiting[:MAX_LISTED]
    ]
    return AccountAnswer(
        f"{len(waiting)} {'request is' if len(waiting) == 1 else 'requests are'} waiting for "
        f"approval: " + "; ".join(parts) + ".",
        [page],
        "approvals",
    )


@dataclass(frozen=True)
class Topic:
    name: str
    capability: Capability
    what: str  # "your invoices": for the refusal
    matches: Callable[[set[str], str], bool]
    answer: Callable[[Identity, str], Awaitable[AccountAnswer]]


def _has(q: set[str], *words: str) -> bool:
    return any(vocabulary.concept(w) in q for w in words)


TOPICS: tuple[Topic, ...] = (
    Topic(
        "approvals",
        Capability.APPROVALS,
        "approval requests",
        lambda q, t: _has(q, "approval") and _has(q, "waiting", "pending", "anything", "any", "open"),
        _waiting_approvals,
    ),
    Topic(
        "roles",
        Capability.USERS,
        "who holds a portal role",
        lambda q, t: (
            bool(re.search(r"\bwho\b", t, re.I))
            and _has(q, "manager", "administrator")
            and any(q & set(words) for words in ROLE_WORDS.values())
        ),
        _people_in_role,
    ),
    Topic(
        "last_invoice",
        Capability.INVOICES,
        "your invoices",
        lambda q, t: _has(q, "invoice") and bool(re.search(r"\b(last|latest|most recent|previous)\b", t, re.I)),
        _last_invoice,
    ),
    Topic(
        "unpaid_invoices",
        Capability.INVOICES,
        "your invoices",
        lambda q, t: _has(q, "invoice", "owe") and _has(q, "unpaid"),
        _unpaid_invoices,
    ),
    Topic(
        "licenses",
        Capability.LICENSES,
        "your licenses",
        lambda q, t: (
            _has(q, "license") and bool(re.search(r"\b(how many|unassigned|unused|spare|available|left)\b", t, re.I))
        ),
        _unassigned_licenses,
    ),
    Topic(
        "renewals",
        Capability.SERVICES,
        "your subscriptions",
        lambda q, t: _has(q, "renew") and bool(re.search(r"\b(when|which|what|next)\b", t, re.I)),
        _renewals,
    ),
)


def topic_for(question: str) -> Topic | None:
    """The account topic a question asks about, or None (a help-article question)."""
    if HOW_TO.search(question) or not OURS.search(question):
        return None
    q = set(vocabulary.concepts(question))
    return next((t for t in TOPICS if t.matches(q, question)), None)


async def answer_for(identity: Identity | None, question: str) -> AccountAnswer | None:
    """The answer from the customer's own data, a refusal saying why, or None when this is not
    an account question. Raises NotSignedIn without an identity."""
    topic = topic_for(question)
    if topic is None:
        return None
    if identity is None:
        require(identity, topic.capability)  # raises NotSignedIn
    try:
        require(identity, topic.capability)
    except PermissionDenied:
        return not_allowed(identity, topic.capability, topic.what)
    try:
        return await topic.answer(identity, question)
    except MicrosoftError as error:
        return AccountAnswer(
            f"I couldn't read that from Microsoft just now: {error.message}", [_page(topic.capability)], topic.name
        )


__all__ = ["AccountAnswer", "Link", "TOPICS", "answer_for", "not_allowed", "topic_for"]
