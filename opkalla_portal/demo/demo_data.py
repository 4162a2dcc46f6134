"""The canonical, deterministic demo world shared by the portal's seed and the emulator.

Everything here is plain data: two customers, their portal personas, billing contracts,
Microsoft subscriptions and the directory. Dates are offsets from the day the demo is
seeded, so the demo behaves the same on any day (a subscription bought 3 days ago is
always inside the New Commerce 7-day window).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from opkalla_portal.roles import ROLE_ADMINISTRATOR, ROLE_FINANCE_MANAGER, ROLE_SUBSCRIPTION_MANAGER

# Namespace for every demo GUID: uuid5(DEMO_NAMESPACE, "<kind>:<key>") keeps ids stable.
DEMO_NAMESPACE = uuid.UUID("5d1f7d0e-3c55-4e61-9f0a-0bca1c0ff3e1")


def demo_guid(kind: str, key: str) -> str:
    """A stable GUID for a demo object."""
    return str(uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{key}"))


# The app registration the portal uses against the emulator (never a real secret).
DEMO_APP_CLIENT_ID = demo_guid("app", "opkalla-portal")
DEMO_APP_CLIENT_SECRET = "demo-secret-not-for-production"

GLOBAL_ADMIN_ROLE_TEMPLATE_ID = "62e90394-69f5-4237-9190-012177145e10"


@dataclass(frozen=True)
class DemoCustomer:
    key: str
    name: str
    domain: str
    phone: str
    website: str
    email: str
    address_line1: str
    city: str
    state: str
    postal_code: str
    country: str
    directory_size: int
    # Whether the customer's tenant has granted admin consent to the portal's app.
    consented: bool
    # The provider itself (Opkalla): its administrators edit the home page's blog.
    is_provider: bool = False

    @property
    def tenant_id(self) -> str:
        return demo_guid("tenant", self.key)


@dataclass(frozen=True)
class DemoPersona:
    customer_key: str
    first_name: str
    last_name: str
    title: str
    department: str
    role: str | None  # web role; None for users without one yet
    status: str  # "active" | "inactive"
    global_admin: bool = False
    business_phone: str = ""

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def email(self) -> str:
        customer = CUSTOMERS[self.customer_key]
        return f"{self.first_name}.{self.last_name}@{customer.domain}".lower()

    @property
    def object_id(self) -> str:
        """Entra object id of the person's Microsoft account."""
        return demo_guid("user", f"{self.customer_key}:{self.email}")


@dataclass(frozen=True)
class DemoContract:
    customer_key: str
    key: str
    name: str
    number: str


@dataclass(frozen=True)
class DemoSubscription:
    customer_key: str
    key: str
    contract_key: str
    offer_name: str
    product_id: str
    sku_id: str
    availability_id: str
    sku_part_number: str | None  # Graph skuPartNumber (None for usage-based Azure plan)
    graph_sku_id: str | None  # Graph skuId GUID
    quantity: int
    term_duration: str  # P1M | P1Y | P3Y
    billing_cycle: str  # monthly | annual | none
    unit_price: Decimal  # per seat per month, USD
    purchased_days_ago: int | None  # None: placed by renews_in_days instead
    parent_key: str | None = None
    unit_type: str = "Licenses"
    max_quantity: int = 300
    assigned: int = 0  # seats assigned in the directory at seed time
    # The current term renews exactly this many days after the seed day (whatever the day).
    renews_in_days: int | None = None

    @property
    def id(self) -> str:
        return demo_guid("subscription", f"{self.customer_key}:{self.key}")

    @property
    def offer_id(self) -> str:
        return f"{self.product_id}:{self.sku_id}:{self.availability_id}"

    @property
    def parent_id(self) -> str | None:
        return demo_guid("subscription", f"{self.customer_key}:{self.parent_key}") if self.parent_key else None

    def creation_date(self, today: date) -> date:
        if self.renews_in_days is None:
            return today - timedelta(days=self.purchased_days_ago)
        # The term ends the day before it renews; it began one term before that.
        renewal = today + timedelta(days=self.renews_in_days + 1)
        return _add_months(renewal, -TERM_MONTHS[self.term_duration])

    def commitment_end_date(self, today: date) -> date:
        """End of the current term (the renewal date): terms renew back to back."""
        months = TERM_MONTHS[self.term_duration]
        start = self.creation_date(today)
        end = _add_months(start, months)
        while end <= today:
            start, end = end, _add_months(end, months)
        return end - timedelta(days=1)


TERM_MONTHS = {"P1M": 1, "P1Y": 12, "P3Y": 36}


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    # Clamp to the month's last day (Jan 31 + 1 month = Feb 28/29).
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)


CUSTOMERS: dict[str, DemoCustomer] = {
    c.key: c
    for c in (
        DemoCustomer(
            key="lakeside",
            name="Lakeside Dental Partners",
            domain="lakesidedental.onmicrosoft.com",
            phone="+1 (612) 555-0142",
            website="https://www.lakesidedental.example",
            email="office@lakesidedental.example",
            address_line1="1200 Lakeshore Drive, Suite 300",
            city="Minneapolis",
            state="MN",
            postal_code="55401",
            country="US",
            directory_size=150,
            consented=False,
        ),
        DemoCustomer(
            key="bayview",
            name="Bayview Logistics",
            domain="bayviewlogistics.onmicrosoft.com",
            phone="+1 (206) 555-0188",
            website="https://www.bayviewlogistics.example",
            email="it@bayviewlogistics.example",
            address_line1="88 Harbor Way",
            city="Seattle",
            state="WA",
            postal_code="98101",
            country="US",
            directory_size=40,
            consented=True,
        ),
        DemoCustomer(
            key="opkalla",
            name="Opkalla",
            domain="opkalla.onmicrosoft.com",
            phone="+1 (800) 555-0100",
            website="https://www.opkalla.com",
            email="support@opkalla.com",
            address_line1="500 Commerce Street",
            city="Chicago",
            state="IL",
            postal_code="60607",
            country="US",
            directory_size=4,
            consented=True,
            is_provider=True,
        ),
    )
}

PERSONAS: list[DemoPersona] = [
    DemoPersona(
        "lakeside",
        "Dana",
        "Whitaker",
        "IT Director",
        "Operations",
        ROLE_ADMINISTRATOR,
        "active",
        global_admin=True,
        business_phone="+1 (612) 555-0143",
    ),
    DemoPersona(
        "lakeside",
        "Luis",
        "Ortega",
        "Systems Administrator",
        "Operations",
        ROLE_SUBSCRIPTION_MANAGER,
        "active",
        business_phone="+1 (612) 555-0144",
    ),
    DemoPersona(
        "lakeside",
        "Priya",
        "Natarajan",
        "Controller",
        "Finance",
        ROLE_FINANCE_MANAGER,
        "active",
        business_phone="+1 (612) 555-0145",
    ),
    DemoPersona("lakeside", "Marcus", "Reed", "Practice Manager", "Front Office", None, "inactive"),
    DemoPersona("lakeside", "Emily", "Chen", "Office Coordinator", "Front Office", None, "inactive"),
    DemoPersona(
        "bayview",
        "Tom",
        "Becker",
        "Head of IT",
        "IT",
        ROLE_ADMINISTRATOR,
        "active",
        global_admin=True,
        business_phone="+1 (206) 555-0189",
    ),
    # issue 9: the provider's portal administrator, who edits the Homepage blog.
    DemoPersona(
        "opkalla",
        "Riley",
        "Morgan",
        "Modern Work Lead",
        "Marketing",
        ROLE_ADMINISTRATOR,
        "active",
        global_admin=True,
        business_phone="+1 (800) 555-0101",
    ),
]

CONTRACTS: list[DemoContract] = [
    DemoContract("lakeside", "m365-annual", "Microsoft 365 Annual Commitment", "LDP-2026-001"),
    DemoContract("lakeside", "m365-monthly", "Microsoft 365 Monthly", "LDP-2026-002"),
    DemoContract("lakeside", "azure", "Azure Consumption", "LDP-2026-003"),
    DemoContract("bayview", "m365", "Microsoft 365", "BVL-2026-001"),
    DemoContract("bayview", "azure", "Azure Consumption", "BVL-2026-002"),
]

_D = Decimal
SUBSCRIPTIONS: list[DemoSubscription] = [
    # --- Lakeside Dental Partners: annual commitment contract
    DemoSubscription(
        "lakeside",
        "spb",
        "m365-annual",
        "Microsoft 365 Business Premium",
        "CFQ7TTC0LCHC",
        "0002",
        "CFQ7TTC0LMRL",
        "SPB",
        "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
        45,
        "P1Y",
        "monthly",
        # Renews in 45 days on any day, so the demo shows a right-size recommendation.
        _D("22.00"),
        None,
        assigned=41,
        renews_in_days=45,
    ),
    DemoSubscription(
        "lakeside",
        "teams-phone",
        "m365-annual",
        "Microsoft Teams Phone Standard",
        "CFQ7TTC0J1FV",
        "0001",
        "CFQ7TTC0KL4W",
        "MCOEV",
        "e43b5b99-8dfb-405f-9987-dc307f34bcbd",
        25,
        "P1Y",
        "monthly",
        _D("8.00"),
        270,
        parent_key="spb",
        assigned=20,
    ),
    DemoSubscription(
        "lakeside",
        "audio-conf",
        "m365-annual",
        "Microsoft Teams Audio Conferencing",
        "CFQ7TTC0LLZK",
        "0001",
        "CFQ7TTC0MFG7",
        "MCOMEETADV",
        "0c266dff-15dd-4b49-8397-2bb16070ed52",
        10,
        "P1Y",
        "monthly",
        _D("4.00"),
        120,
        parent_key="spb",
        assigned=6,
    ),
    DemoSubscription(
        "lakeside",
        "teams-premium",
        "m365-annual",
        "Microsoft Teams Premium",
        "CFQ7TTC0RM8K",
        "0001",
        "CFQ7TTC0RM90",
        "Microsoft_Teams_Premium",
        "36a0f3b3-adb5-49ea-bf66-762134cf063a",
        5,
        "P1Y",
        "monthly",
        _D("10.00"),
        3,
        parent_key="spb",
        assigned=2,
    ),
    DemoSubscription(
        "lakeside",
        "basic",
        "m365-annual",
        "Microsoft 365 Business Basic",
        "CFQ7TTC0LH18",
        "0001",
        "CFQ7TTC0LJ05",
        "O365_BUSINESS_ESSENTIALS",
        "3b555118-da6a-4418-894f-7df1e2096870",
        30,
        "P1Y",
        "annual",
        _D("6.00"),
        200,
        assigned=24,
    ),
    DemoSubscription(
        "lakeside",
        "pbi-pro",
        "m365-annual",
        "Power BI Pro",
        "CFQ7TTC0L3PB",
        "0001",
        "CFQ7TTC0KMQ5",
        "POWER_BI_PRO",
        "f8a1db68-be16-40ed-86d5-cb42ce701560",
        12,
        "P1Y",
        "monthly",
        _D("14.00"),
        90,
        assigned=9,
    ),
    DemoSubscription(
        "lakeside",
        "copilot",
        "m365-annual",
        "Microsoft 365 Copilot",
        "CFQ7TTC0MM8R",
        "0002",
        "CFQ7TTC0MQHW",
        "Microsoft_365_Copilot",
        "639dec6b-bb19-468b-871c-c5c441c4b0cb",
        5,
        "P1Y",
        "annual",
        _D("30.00"),
        3,
        assigned=2,
    ),
    DemoSubscription(
        "lakeside",
        "entra-p1",
        "m365-annual",
        "Microsoft Entra ID P1",
        "CFQ7TTC0LH2H",
        "0001",
        "CFQ7TTC0LKSD",
        "AAD_PREMIUM",
        "078d2b04-f1bd-4111-bbd4-b4b1b354cef4",
        10,
        "P1Y",
        "monthly",
        _D("6.00"),
        150,
        assigned=7,
    ),
    # --- Lakeside Dental Partners: month-to-month contract
    DemoSubscription(
        "lakeside",
        "exchange-p1",
        "m365-monthly",
        "Exchange Online (Plan 1)",
        "CFQ7TTC0LH16",
        "0001",
        "CFQ7TTC0LL2X",
        "EXCHANGESTANDARD",
        "4b9405b0-7788-4568-add1-99614e613b69",
        20,
        "P1M",
        "monthly",
        _D("4.80"),
        40,
        assigned=15,
    ),
    DemoSubscription(
        "lakeside",
        "exchange-archiving",
        "m365-monthly",
        "Exchange Online Archiving",
        "CFQ7TTC0LH0Q",
        "0001",
        "CFQ7TTC0LH5C",
        "EXCHANGEARCHIVE_ADDON",
        "ee02fd1b-340e-4a4b-b355-4a514e4c8943",
        5,
        "P1M",
        "monthly",
        _D("3.60"),
        40,
        parent_key="exchange-p1",
        assigned=3,
    ),
    DemoSubscription(
        "lakeside",
        "visio-p2",
        "m365-monthly",
        "Visio Plan 2",
        "CFQ7TTC0HD33",
        "0002",
        "CFQ7TTC0LD03",
        "VISIOCLIENT",
        "c5928f49-12ba-48f7-ada3-0d743a3601d5",
        4,
        "P1M",
        "monthly",
        _D("18.00"),
        75,
        assigned=3,
    ),
    DemoSubscription(
        "lakeside",
        "apps-business",
        "m365-monthly",
        "Microsoft 365 Apps for business",
        "CFQ7TTC0LH1G",
        "0001",
        "CFQ7TTC0LKF4",
        "O365_BUSINESS",
        "cdd28e44-67e3-425e-be4c-737fab2899d3",
        8,
        "P1M",
        "monthly",
        _D("9.90"),
        5,
        assigned=6,
    ),
    DemoSubscription(
        "lakeside",
        "project-p3",
        "m365-monthly",
        "Project Plan 3",
        "CFQ7TTC0HDB0",
        "0002",
        "CFQ7TTC0LDB4",
        "PROJECTPROFESSIONAL",
        "53818b1b-4a27-454b-8896-0dba576410e6",
        3,
        "P1M",
        "monthly",
        _D("36.00"),
        60,
        assigned=2,
    ),
    # --- Lakeside Dental Partners: Azure
    DemoSubscription(
        "lakeside",
        "azure-plan",
        "azure",
        "Azure plan",
        "DZH318Z0BCZC",
        "0001",
        "DZH318Z0BCZC0001",
        None,
        None,
        1,
        "P1M",
        "monthly",
        _D("0.00"),
        400,
        unit_type="Usage-based",
        max_quantity=1,
    ),
    # --- Bayview Logistics
    DemoSubscription(
        "bayview",
        "business-standard",
        "m365",
        "Microsoft 365 Business Standard",
        "CFQ7TTC0LDPB",
        "0001",
        "CFQ7TTC0LF8S",
        "O365_BUSINESS_PREMIUM",
        "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
        35,
        "P1Y",
        "monthly",
        _D("12.50"),
        200,
        assigned=30,
    ),
    DemoSubscription(
        "bayview",
        "exchange-p2",
        "m365",
        "Exchange Online (Plan 2)",
        "CFQ7TTC0LH0R",
        "0001",
        "CFQ7TTC0LH2J",
        "EXCHANGEENTERPRISE",
        "19ec0d23-8335-4cbd-94ac-6050e30712fa",
        5,
        "P1M",
        "monthly",
        _D("9.60"),
        30,
        assigned=4,
    ),
    DemoSubscription(
        "bayview",
        "azure-plan",
        "azure",
        "Azure plan",
        "DZH318Z0BCZC",
        "0001",
        "DZH318Z0BCZC0001",
        None,
        None,
        1,
        "P1M",
        "monthly",
        _D("0.00"),
        500,
        unit_type="Usage-based",
        max_quantity=1,
    ),
]

_FIRST_NAMES = [
    "Aisha",
    "Ben",
    "Carla",
    "Derek",
    "Elena",
    "Farid",
    "Grace",
    "Hector",
    "Ivy",
    "Jamal",
    "Keiko",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Pedro",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Uma",
    "Victor",
    "Wendy",
    "Xavier",
    "Yara",
    "Zane",
    "Amara",
    "Bruno",
    "Chloe",
    "Diego",
]
_LAST_NAMES = [
    "Anderson",
    "Brooks",
    "Castillo",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ibrahim",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreno",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quist",
    "Russo",
    "Schmidt",
    "Tanaka",
]
DEPARTMENTS = ["Clinical", "Front Office", "Billing", "Operations", "Hygiene", "Finance", "IT", "Marketing"]
_TITLES = {
    "Clinical": "Dentist",
    "Front Office": "Receptionist",
    "Billing": "Billing Specialist",
    "Operations": "Operations Analyst",
    "Hygiene": "Dental Hygienist",
    "Finance": "Accountant",
    "IT": "IT Specialist",
    "Marketing": "Marketing Coordinator",
}


@dataclass(frozen=True)
class DemoDirectoryUser:
    customer_key: str
    object_id: str
    given_name: str
    surname: str
    user_principal_name: str
    department: str
    job_title: str
    usage_location: str | None
    account_enabled: bool
    licenses: tuple[str, ...] = field(default=())  # Graph skuPartNumbers assigned at seed time
    # Days since the last interactive / non-interactive sign-in (None: never), see sign_in_days_ago.
    last_sign_in_days: int | None = None
    last_non_interactive_days: int | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.surname}"


def sign_in_days_ago(position: int, is_persona: bool) -> tuple[int | None, int | None]:
    """(interactive, non-interactive) days since the user at `position` last signed in; None = never.

    Deterministic, so the demo always shows the same idle seats: personas are active; of the
    generated staff about 4 % never signed in, 8 % are idle 90+ days, 6 % 60-89 days (half of
    them kept active by a recent non-interactive sign-in, e.g. a phone's mail app), 6 % 30-59.
    """
    if is_persona:
        return position % 3, None
    bucket = (position * 37) % 100
    if bucket < 4:
        return None, None
    if bucket < 12:
        return 95 + bucket * 3, None
    if bucket < 18:
        return 65 + bucket, (2 if bucket % 2 else None)
    if bucket < 24:
        return 35 + bucket, None
    return bucket % 20, bucket % 7


def directory_users(customer_key: str) -> list[DemoDirectoryUser]:
    """The customer's Microsoft 365 directory: its personas first, then generated staff.

    Every 17th generated user has no usage location (Graph refuses to license them), and
    seats are assigned in order so that each SKU's consumed count equals its `assigned`.
    """
    customer = CUSTOMERS[customer_key]
    people: list[tuple[str, str, str, str]] = [
        (p.first_name, p.last_name, p.department, p.title) for p in PERSONAS if p.customer_key == customer_key
    ]
    index = 0
    taken = {(first, last) for first, last, _, _ in people}
    while len(people) < customer.directory_size:
        first = _FIRST_NAMES[index % len(_FIRST_NAMES)]
        last = _LAST_NAMES[(index * 7 + index // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
        index += 1
        if (first, last) in taken:
            continue
        taken.add((first, last))
        department = DEPARTMENTS[index % len(DEPARTMENTS)]
        people.append((first, last, department, _TITLES[department]))

    licensed_skus = [s for s in SUBSCRIPTIONS if s.customer_key == customer_key and s.sku_part_number]
    users: list[DemoDirectoryUser] = []
    for position, (first, last, department, title) in enumerate(people):
        upn = f"{first}.{last}@{customer.domain}".lower()
        is_persona = position < sum(1 for p in PERSONAS if p.customer_key == customer_key)
        no_location = not is_persona and position % 17 == 0
        sign_ins = sign_in_days_ago(position, is_persona)
        licenses = tuple(
            s.sku_part_number
            for s in licensed_skus
            # Spread each SKU's seats over the directory, starting at a different offset.
            if not no_location and _holds_seat(position, s, licensed_skus.index(s), customer.directory_size)
        )
        users.append(
            DemoDirectoryUser(
                customer_key=customer_key,
                object_id=demo_guid("user", f"{customer_key}:{upn}"),
                given_name=first,
                surname=last,
                user_principal_name=upn,
                department=department,
                job_title=title,
                usage_location=None if no_location else customer.country,
                account_enabled=position % 41 != 40,
                licenses=licenses,
                last_sign_in_days=sign_ins[0],
                last_non_interactive_days=sign_ins[1],
            )
        )
    return users


def _holds_seat(position: int, subscription: DemoSubscription, order: int, size: int) -> bool:
    """Whether the user at `position` holds one of the subscription's assigned seats."""
    eligible = [p for p in range(size) if p % 17 != 0 or p < 6]
    start = (order * 11) % len(eligible)
    rotated = eligible[start:] + eligible[:start]
    return position in set(rotated[: subscription.assigned])


def customer_subscriptions(customer_key: str) -> list[DemoSubscription]:
    return [s for s in SUBSCRIPTIONS if s.customer_key == customer_key]


def personas(customer_key: str | None = None) -> list[DemoPersona]:
    return [p for p in PERSONAS if customer_key is None or p.customer_key == customer_key]


@dataclass(frozen=True)
class DemoAzureResource:
    customer_key: str
    name: str
    resource_group: str
    category: str  # service category shown in Usage Data (Compute, Storage, ...)
    meter: str
    unit: str
    daily_quantity: Decimal  # typical quantity per day
    unit_price: Decimal  # USD per unit

    @property
    def resource_id(self) -> str:
        sub = next(s for s in SUBSCRIPTIONS if s.customer_key == self.customer_key and s.key == "azure-plan")
        return (
            f"/subscriptions/{sub.id}/resourceGroups/{self.resource_group}/providers/"
            f"{_PROVIDER_BY_CATEGORY[self.category]}/{self.name}"
        )


_PROVIDER_BY_CATEGORY = {
    "Compute": "Microsoft.Compute/virtualMachines",
    "Storage": "Microsoft.Storage/storageAccounts",
    "Networking": "Microsoft.Network/virtualNetworkGateways",
    "Databases": "Microsoft.Sql/servers",
    "Backup": "Microsoft.RecoveryServices/vaults",
    "Security": "Microsoft.Security/pricings",
}

AZURE_RESOURCES: list[DemoAzureResource] = [
    DemoAzureResource(
        "lakeside", "ldp-imaging-vm01", "rg-imaging", "Compute", "D4s v5", "1 Hour", _D("24"), _D("0.1920")
    ),
    DemoAzureResource(
        "lakeside", "ldp-pms-vm01", "rg-practice-mgmt", "Compute", "B2ms", "1 Hour", _D("24"), _D("0.0832")
    ),
    DemoAzureResource(
        "lakeside",
        "ldpimagingstore",
        "rg-imaging",
        "Storage",
        "Hot LRS Data Stored",
        "1 GB/Month",
        _D("68"),
        _D("0.0208"),
    ),
    DemoAzureResource(
        "lakeside",
        "ldpbackupstore",
        "rg-backup",
        "Storage",
        "Cool LRS Data Stored",
        "1 GB/Month",
        _D("140"),
        _D("0.0100"),
    ),
    DemoAzureResource(
        "lakeside", "ldp-vpn-gateway", "rg-network", "Networking", "VpnGw1", "1 Hour", _D("24"), _D("0.1900")
    ),
    DemoAzureResource(
        "lakeside", "ldp-pms-sql", "rg-practice-mgmt", "Databases", "S2 DTUs", "1 Day", _D("1"), _D("2.4000")
    ),
    DemoAzureResource(
        "lakeside", "ldp-recovery-vault", "rg-backup", "Backup", "Protected Instances", "1/Day", _D("4"), _D("0.3300")
    ),
    DemoAzureResource(
        "lakeside",
        "ldp-defender",
        "rg-security",
        "Security",
        "Defender for Servers P1",
        "1 Hour",
        _D("48"),
        _D("0.0070"),
    ),
    DemoAzureResource(
        "bayview", "bvl-routing-vm01", "rg-routing", "Compute", "D8s v5", "1 Hour", _D("24"), _D("0.3840")
    ),
    DemoAzureResource(
        "bayview", "bvlshipments", "rg-routing", "Storage", "Hot LRS Data Stored", "1 GB/Month", _D("220"), _D("0.0208")
    ),
    DemoAzureResource(
        "bayview", "bvl-tracking-sql", "rg-tracking", "Databases", "S3 DTUs", "1 Day", _D("1"), _D("4.8000")
    ),
]


@dataclass(frozen=True)
class DemoUsageRecord:
    customer_key: str
    usage_date: date
    resource: DemoAzureResource
    quantity: Decimal
    cost: Decimal  # USD, rounded to the cent


def usage_history_start(today: date) -> date:
    """First day of Azure usage history: covers every demo invoice's service period (12 full months)."""
    return _add_months(today.replace(day=1), -12)


def azure_usage(customer_key: str, start: date, end: date) -> list[DemoUsageRecord]:
    """Daily rated Azure usage for [start, end], deterministic for each day and resource.

    Usage drifts with the weekday (clinics are closed on Sundays) and a small per-day
    wobble derived from the date, so charts look real and repeat exactly.
    """
    records: list[DemoUsageRecord] = []
    resources = [r for r in AZURE_RESOURCES if r.customer_key == customer_key]
    day = start
    while day <= end:
        for index, resource in enumerate(resources):
            wobble = Decimal((day.toordinal() * 31 + index * 17) % 21 - 10) / Decimal(100)  # -10%..+10%
            weekday_factor = Decimal("0.6") if (day.weekday() == 6 and resource.category == "Compute") else Decimal(1)
            growth = Decimal(1) + Decimal(day.toordinal() % 365) / Decimal(3650)  # slow growth over the year
            quantity = (resource.daily_quantity * (Decimal(1) + wobble) * weekday_factor * growth).quantize(
                Decimal("0.0001")
            )
            cost = (quantity * resource.unit_price).quantize(Decimal("0.01"))
            records.append(DemoUsageRecord(customer_key, day, resource, quantity, cost))
        day += timedelta(days=1)
    return records
