"""The four demo blog posts shown on the home page (Markdown bodies)."""

DEMO_POSTS = [
    {
        "slug": "copilot-for-microsoft-365-small-business",
        "title": "Microsoft 365 Copilot is now within reach for small practices",
        "summary": "No more 300-seat minimum: what Copilot can do for a 20-person office, and how to pilot it.",
        "cover": "/blog/copilot.svg",
        "body": """Microsoft removed the 300-seat minimum for **Microsoft 365 Copilot**, so any customer on
Microsoft 365 Business Standard or Business Premium can add it, one seat at a time.

## Where it pays off first
- **Outlook**: summarise a long patient-scheduling thread and draft the reply.
- **Teams**: recap a meeting you missed, with action items and owners.
- **Excel**: ask questions of a billing export in plain language.

## How to pilot it
1. Buy 3–5 seats from the *Product Catalog* (Add Service → search "Copilot").
2. Assign them on *Manage Licenses* to people who live in email and meetings.
3. Review after 30 days; seats bought on a monthly term can be reduced at renewal.

Copilot respects the permissions you already have: it only sees what the user can open.
""",
    },
    {
        "slug": "new-commerce-seat-changes-explained",
        "title": "New Commerce: when you can lower seat counts (the 7-day window)",
        "summary": "Increases apply any time; decreases only within 7 days of purchase or renewal. "
        "Here is how to plan.",
        "cover": "/blog/new-commerce.svg",
        "body": """Microsoft's New Commerce Experience changed how subscription quantities work.

| Change | When it's allowed |
|---|---|
| Add seats | Any time, prorated to the end of the term |
| Remove seats | Within **7 days (168 hours)** of purchase or renewal |
| Cancel | Within 7 days, with a prorated refund |

Outside the window, schedule the reduction **On Renewal** from the *Subscription Edit* page: the
portal records it under *Future Changes* and sets Microsoft's renewal instructions for you.

Annual terms are up to 20% cheaper than monthly terms, but lock the seat count for the year.
""",
    },
    {
        "slug": "teams-premium-intelligent-recap",
        "title": "Teams Premium: intelligent recap, watermarking and branded meetings",
        "summary": "The Teams Premium add-on brings AI meeting notes and advanced protection to sensitive calls.",
        "cover": "/blog/teams-premium.svg",
        "body": """**Teams Premium** is an add-on to your Microsoft 365 subscription. You'll find it on
*My Services* under the base subscription's plus sign.

- *Intelligent recap*: AI-generated notes, tasks and chapters after each meeting.
- *Watermarking* and *sensitivity labels* for meetings that discuss patient data.
- *Branded lobbies* so patients and partners know they're in the right place.

Only the organisers who need these features need a Teams Premium license.
""",
    },
    {
        "slug": "entra-id-conditional-access-baseline",
        "title": "Five Conditional Access policies every Microsoft 365 tenant should have",
        "summary": "A practical security baseline with Microsoft Entra ID P1, included in Business Premium.",
        "cover": "/blog/entra.svg",
        "body": """Business Premium includes **Microsoft Entra ID P1**, which unlocks Conditional Access.

1. Require multifactor authentication for all users.
2. Block legacy authentication (POP, IMAP, basic SMTP).
3. Require compliant or hybrid-joined devices for admins.
4. Block sign-ins from countries where you don't operate.
5. Require MFA to register security information.

Start each policy in *report-only* mode for a week, then switch it on.
""",
    },
]
