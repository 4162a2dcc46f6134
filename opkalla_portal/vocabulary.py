"""The words customers use and the words the portal's articles use, brought together.

One normalisation shared by retrieval (`services/knowledge.py`) and the demo's answer
composer (`microsoft/emulator/openai_api.py`), so the demo answers as well as retrieval
finds: lower-case words, a few multi-word phrases folded to one word ("take back" →
unassign, "sign in" → signin), stop words dropped, Snowball (Porter 2) stems, and each stem
mapped to a *concept*: the first word of its synonym group. "give", "assign" and "allocate"
are one concept; so are "lower", "reduce" and "decrease".

The groups are general vocabulary of Microsoft 365 administration and of the portal's
menu — not copies of particular questions. A word may belong to one group only.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[a-z0-9]+")
_stemmer = snowballstemmer.stemmer("english")

STOPWORDS = frozenset(
    """
a about after all am an and any are as at be been before being but by can could did do does doing don't for
from get got has have having he her here hers him his how i i'm if in into is it it's its just me more most my
no nor not now of off on once only or other our out over own please same she should so some such than that
the their them then there these they this those through to too under until up us very was we were what when
where which while who whom why will with would you your yours want need know tell explain help happens
happen way ways thing things use using used also make makes made work works good best s t let lets go going
something anything still already yet again actually
really possible able okay ok hi hello thanks thank hey currently right now just kind sort
don doesn didn isn aren wasn weren won wouldn couldn shouldn haven hasn hadn can't cannot ve ll re d m
say says said want wants wanted keep keeps kept get gets getting ask asks asked asking take takes took
supposed enough anymore ago today yesterday tomorrow stuff lot lots bit etc whatever themselves himself
herself itself ourselves yourself yourselves myself
maybe probably pretty quite exactly basically somehow anyway else even much many every each first
done monday tuesday wednesday thursday friday saturday sunday weekend morning afternoon evening tonight
rather never ever one ones nobody nothing none instead
uses helps helped helping needed needs needing tells telling others knows knowing knew happened happening
think thinks thought guess wonder wondering wondered
whats hows wheres whos whens whys thats theres heres im ive dont cant wont doesnt isnt arent didnt wasnt werent
youre theyre weve lets
anywhere somewhere everywhere like likes option options told saw seen goes went gone
asap urgent urgently
pls plz thx ty lol btw fyi idk tbh u ur
two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty hundred dozen couple
had because against during above below further both few ours theirs
guy guys big put stuck real sure proper properly fine better bunch almost little idea weird mention mentioned grab
figure talk thru behind sudden suddenly heard mine odd hit
well forever
sorry obvious honestly noticeably feeling soon
might
""".split()
)
# Round 10: an inflection of a stop word is one too ("taking", "making", "working"); "rights" is not
# ("admin rights").
NOT_STOP_INFLECTIONS = frozenset({"rights"})

# Multi-word expressions folded into one word before tokenising (whole words only).
PHRASES: tuple[tuple[str, str], ...] = (
    # Round 9: in professional firms a partner is a person ("our managing partner", "my law partner"); Opkalla,
    # the Microsoft partner, is named "Opkalla" or "our partner/provider" and keeps the word
    ("business partner", "colleague"),
    ("law partner", "colleague"),
    ("managing partner", "colleague"),
    ("senior partner", "colleague"),
    ("junior partner", "colleague"),
    ("equity partner", "colleague"),
    ("founding partner", "colleague"),
    ("one of our partners", "one colleague"),
    ("one of the partners", "one colleague"),
    ("the other partners", "the other colleagues"),
    # Round 8: how people shorten words typing in a hurry (the article words they stand for)
    ("lic", "license"),
    ("lics", "licenses"),
    ("acct", "account"),
    ("accts", "accounts"),
    ("pwd", "password"),
    ("pw", "password"),
    ("passwd", "password"),
    ("msg", "message"),
    ("msgs", "messages"),
    ("mgr", "manager"),
    ("subs", "subscriptions"),
    ("dept", "department"),
    ("yr", "year"),
    ("yrs", "years"),
    ("mth", "month"),
    ("mths", "months"),
    ("wk", "week"),
    ("wks", "weeks"),
    ("txt", "text"),
    ("take back", "unassign"),
    ("taking back", "unassign"),
    ("took back", "unassign"),
    ("take away", "unassign"),
    ("taking away", "unassign"),
    ("free up", "unassign"),
    ("freeing up", "unassign"),
    ("sign in", "signin"),
    ("signing in", "signin"),
    ("sign on", "signin"),
    ("log in", "signin"),
    ("logging in", "signin"),
    ("log on", "signin"),
    ("logon", "signin"),
    ("login", "signin"),
    ("logins", "signin"),
    ("signins", "signin"),
    ("sign up", "register"),
    ("signing up", "register"),
    ("set up", "setup"),
    ("setting up", "setup"),
    ("two factor", "mfa"),
    ("two step", "mfa"),
    ("2 step", "mfa"),
    ("2 factor", "mfa"),
    ("multi factor", "mfa"),
    ("multi-factor", "mfa"),
    ("two-factor", "mfa"),
    ("two-step", "mfa"),
    ("left the company", "leaver"),
    ("leaves the company", "leaver"),
    ("leaving the company", "leaver"),
    ("no longer works", "leaver"),
    ("no longer with", "leaver"),
    ("ex employee", "leaver"),
    ("former employee", "leaver"),
    ("former staff", "leaver"),
    ("azure ad", "entra"),
    ("azure active directory", "entra"),
    ("phone number", "phonenumber"),
    ("mailing address", "address"),
    ("postal address", "address"),
    ("pay as you go", "consumption"),
    ("pay-as-you-go", "consumption"),
    # Round 12: the portal's web roles are named as such ("the Finance Manager role"), and their names
    # keep their words ("Who are our Finance Managers?" asks about finance)
    ("web roles", "webrole"),
    ("web role", "webrole"),
    ("finance managers", "finance managers webrole"),
    ("finance manager", "finance manager webrole"),
    ("subscription managers", "subscription managers webrole"),
    ("subscription manager", "subscription manager webrole"),
    # Round 11: time away is not leaving the company ("while she is on maternity leave")
    ("maternity leave", "absence"),
    ("paternity leave", "absence"),
    ("parental leave", "absence"),
    ("sick leave", "absence"),
    ("annual leave", "absence"),
    ("on leave", "absence"),
    ("out of office", "autoreply"),
    ("auto reply", "autoreply"),
    ("how long", "howlong"),
    ("admin center", "admincenter"),
    ("admin centre", "admincenter"),
    ("admin microsoft com", "admincenter"),
    ("go up", "increase"),
    ("goes up", "increase"),
    ("went up", "increase"),
    ("going up", "increase"),
    ("7 days", "week"),
    ("seven days", "week"),
    ("7 day", "week"),
    ("7-day", "week"),
    ("web address", "url"),
    ("website address", "url"),
    ("link to", "url"),
    ("drop down", "dropdown"),
    ("drop-down", "dropdown"),  # a menu, not "drop" (reduce) + "down" (outage)
    ("reserved instances", "reservation"),
    ("reserved instance", "reservation"),
    ("the us", "country"),
    ("the usa", "country"),
    ("the uk", "country"),
    ("the eu", "country"),  # not "us"
    ("power bi", "powerbi"),
    # round 7: an insurer's security questionnaire is a security question, not insurance
    ("cyber insurance", "security"),
    ("cyber insurer", "security"),
    ("line items", "charges"),
    ("line item", "charge"),
    ("add-on", "addon"),
    ("add on", "addon"),
    ("power apps", "powerapps"),
    ("power automate", "powerautomate"),
    # Microsoft's own portals are not "the portal" a customer means (Opkalla's)
    ("azure portal", "azureportal"),
    ("defender portal", "defenderportal"),
    ("purview portal", "purviewportal"),
    ("company portal", "companyportal"),
    ("admin portals", "admincenter"),
    # In a support chat "you" is Opkalla, the provider: "our account with you", "can you contact me by
    # phone" (the pronoun alone stays filler: "can you tell me…")
    ("with you", "with opkalla"),
    ("from you", "from opkalla"),
    ("by you", "by opkalla"),
    ("you contact", "opkalla contact"),
    ("you call", "opkalla call"),
    ("you email", "opkalla email"),
    ("your portal", "opkalla portal"),
    ("your site", "opkalla portal"),
    ("your website", "opkalla portal"),
    ("opkalla's site", "opkalla portal"),
    ("opkalla's website", "opkalla portal"),
    ("opkalla site", "opkalla portal"),
    ("opkalla website", "opkalla portal"),
    # round 5: the portal's pages and the everyday names customers give them
    ("main page", "homepage"),
    ("home page", "homepage"),
    ("front page", "homepage"),
    ("landing page", "homepage"),
    ("start page", "homepage"),
    ("known issue", "incident"),
    ("known issues", "incident"),
    ("known problem", "incident"),
    ("known problems", "incident"),
    # the end of a term is its renewal (or expiry)
    ("end of the term", "renewal term"),
    ("end of term", "renewal term"),
    ("end of our term", "renewal term"),
    ("end of my term", "renewal term"),
    ("end of the subscription", "renewal subscription"),
    ("end of the contract", "renewal contract"),
    # "provider" stems like "provide" (assign): "our IT provider" is the partner
    ("provider", "partner"),
    ("providers", "partner"),
    ("right hand", "righthand"),
    ("left hand", "lefthand"),
    # a monthly term is a term; "last month", "this month", "3 months" are periods of time
    ("monthly", "month term"),
    ("chat bot", "chatbot"),
    ("right away", "asap"),
    ("straight away", "asap"),
    # Microsoft's offer names are one thing each, not "Azure" + any plan
    ("azure plan", "azure azureplan"),
    ("azure plans", "azure azureplan"),
    # everyday names of what the articles call otherwise
    ("mailing list", "distribution list"),
    ("email list", "distribution list"),
    ("email group", "distribution group"),
    ("group email", "distribution group"),
    ("read only", "reader"),
    ("autorenew", "auto renew"),
    ("text message", "sms"),
    ("text messages", "sms"),
    ("verification code", "mfa code"),
    # doing it oneself is self-service ("can users reset it themselves")
    ("by themselves", "self"),
    ("themselves", "self"),
    ("himself", "self"),
    ("herself", "self"),
    ("myself", "self"),
    ("yourself", "self"),
    ("ourselves", "self"),
    ("on their own", "self"),
)

# Round 7: customers name the portal's menu pages by their subject: "the services page", "the invoices
# tab", "the licenses screen" — the portal's own page, not the subject in general.
PAGE_SUBJECTS = (
    "services",
    "subscriptions",
    "invoices",
    "invoice",
    "billing",
    "users",
    "licenses",
    "licences",
    "license",
    "agreements",
    "company",
    "catalog",
    "usage",
    "profile",
    "approvals",
)
# Round 13: when a change starts ("to kick in on the 1st of September"): a day of the month or a month is a date,
# and a change that kicks in takes effect (Subscription Edit's Change Effective and Effective Date)
PHRASES += (("kick in", "effect"), ("kicks in", "effect"), ("take effect", "effect"), ("takes effect", "effect"))
# Round 14: everyday names of what the portal and the articles call otherwise. A pop-up is a window (the
# Manage License window); a term that "rolls over" renews; numbers are "bumped up"; "trying to" is a way of
# speaking, not a trial; "through you" is through Opkalla, as "with you" is.
PHRASES += (
    ("pop up", "window"),
    ("pop-up", "window"),
    ("popup", "window"),
    ("popups", "window"),
    ("roll over", "renew"),
    ("rolls over", "renew"),
    ("rolling over", "renew"),
    ("bump up", "increase"),
    ("bumped up", "increase"),
    ("bump", "increase"),
    ("try to", ""),
    ("trying to", ""),
    ("tried to", ""),
    ("through you", "through opkalla"),
    ("landing screen", "homepage"),
)
# Round 15: time away is absence ("while I'm away"); Microsoft's plans for big organisations are Enterprise; the
# head of a department is a user; a common mailbox is a shared one; Microsoft's own admin site is the admin center;
# a spreadsheet of charges is a download (the reconciliation file); halfway is mid-term; an accreditation is a badge;
# (round 17) 36 months is a three-year term.
# Round 19: a colleague's time away too ("while she's away").
_AWAY = ("i'm", "im", "i am", "is", "are", "she's", "shes", "he's", "hes", "they're", "theyre", "we're")
PHRASES += tuple((f"{who} away", "absence") for who in _AWAY)
PHRASES += (
    ("big company", "enterprise"),
    ("big companies", "enterprise"),
    ("large company", "enterprise"),
    ("large companies", "enterprise"),
    ("large organisation", "enterprise"),
    ("large organization", "enterprise"),
    ("head of", "user"),
    ("36 months", "three years"),
    ("36 month", "three year"),
    ("36-month", "three year"),
    ("common mailbox", "shared mailbox"),
    ("common inbox", "shared mailbox"),
    ("microsoft's own admin", "admincenter"),
    ("microsofts own admin", "admincenter"),
    ("microsoft's admin", "admincenter"),
    ("microsofts admin", "admincenter"),
    ("microsoft admin", "admincenter"),
)
# Round 18: a "web name" is a domain name.
PHRASES += (("web name", "domain name"), ("web names", "domain names"))
# Round 19: mail "held back" or in a "holding area" is quarantined.
PHRASES += (("held back", "quarantine"), ("holding area", "quarantine"))
_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}
PHRASES += tuple((f"{day}{_ORDINAL_SUFFIX.get(day, 'th')}", "date") for day in range(1, 32))
PHRASES += tuple(
    (month, "date")
    for month in "january february march april june july august september october november december".split()
)
PHRASES += tuple(
    (f"{subject} {kind}", f"portal {subject}")
    for subject in PAGE_SUBJECTS
    for kind in ("page", "pages", "screen", "tab", "section")
)

# Synonym groups: the first word names the concept. General vocabulary, not particular questions.
GROUPS: tuple[tuple[str, ...], ...] = (
    # licenses and seats
    (
        "license",
        "licence",
        "licenses",
        "licences",
        "licensing",
        "licensed",
        "seat",
        "seats",
        "quantity",
        "quantities",
        "count",
    ),
    ("assign", "give", "allocate", "grant", "provide", "hand"),
    ("unassign", "revoke", "reclaim", "deallocate", "withdraw"),
    ("remove", "delete", "deleted", "deleting", "removal", "rid", "wipe", "wiped", "erase"),
    ("reduce", "lower", "decrease", "fewer", "less", "shrink", "downgrade", "cut", "reduction", "drop"),
    ("increase", "add", "more", "extra", "additional", "raise", "upgrade", "expand"),
    ("schedule", "scheduled", "queue", "queued"),  # round 14: what is queued up is scheduled
    # round 17: the Manage License window's switches are flicked, flipped and toggled
    ("switch", "toggle", "flick", "flip"),
    # round 18: where a business works is its office, whatever the trade calls it ("the shop PCs", "the workshop")
    ("office", "offices", "workshop", "workshops", "warehouse", "yard", "depot", "shop", "shops", "branch", "branches"),
    # round 14: a dispute at law is why a mailbox is put on litigation (legal) hold
    ("litigation", "legal", "lawsuit", "lawsuits", "sue", "sued", "suing", "dispute", "tribunal", "court"),
    ("change", "modify", "edit", "update", "alter", "adjust", "amend", "fix", "rename"),
    ("buy", "bought", "buying", "purchase", "order", "subscribe", "acquire"),
    ("cancel", "cancellation", "cancelled", "canceled", "terminate", "undo"),
    ("refund", "reimburse", "credit"),
    ("renew", "renewal", "renews", "expire", "expiry", "expiration", "anniversary"),
    ("subscription", "plan", "service", "services", "product", "products", "offer", "sku", "skus"),
    ("term", "commitment", "annual", "yearly", "triennial"),
    # billing
    ("invoice", "bill", "bills", "billing", "billed", "statement", "receipt"),
    ("unpaid", "open", "outstanding", "overdue", "due", "owe", "owed", "pending", "balance"),
    ("paid", "settled"),
    ("pay", "payment", "payments", "paying"),
    (
        "cost",
        "price",
        "prices",
        "spend",
        "spent",
        "spending",
        "charge",
        "charges",
        "charged",
        "fee",
        "fees",
        "expensive",
        "cheap",
        "cheaper",
        "pricing",
        "consumption",
        "money",
        "worth",
    ),
    ("usage", "consume", "consumed", "utilization", "utilisation"),
    ("prorate", "prorated", "proration", "partial"),
    ("mid", "middle", "midway", "partway", "halfway"),
    ("compare", "compared", "comparison", "difference", "differences", "different", "versus", "vs", "between"),
    ("download", "export", "csv", "spreadsheet", "spreadsheets"),
    # people and access
    (
        "user",
        "users",
        "employee",
        "employees",
        "staff",
        "colleague",
        "colleagues",
        "person",
        "people",
        "member",
        "members",
        "worker",
        "teammate",
        "coworker",
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "everyone",
        "everybody",
        # job titles are people too
        "developer",
        "developers",
        "auditor",
        "auditors",
        "intern",
        "interns",
        "receptionist",
        "ceo",
        "cto",
        "coo",
        "executive",
        "executives",
        "boss",
        "director",
        "directors",
        "engineer",
        "engineers",
        # round 7: the customers' own trades (dental and law practices, architects, nonprofits)
        "architect",
        "architects",
        "paralegal",
        "paralegals",
        "associate",
        "associates",
        "hygienist",
        "hygienists",
        "dentist",
        "dentists",
        "doctor",
        "doctors",
        "nurse",
        "nurses",
        "lawyer",
        "lawyers",
        "attorney",
        "attorneys",
        "treasurer",
        "clerk",
        "clerks",
        "technician",
        "technicians",
        # round 13: everyday words for a member of staff ("the new girl's licence", "the front desk ladies"), and
        # the trades the tuning sets name again and again
        "girl",
        "girls",
        "lady",
        "ladies",
        "lad",
        "lads",
        "woman",
        "women",
        "teacher",
        "teachers",
        "carer",
        "carers",
        "therapist",
        "therapists",
        "volunteer",
        "volunteers",
        "apprentice",
        "apprentices",
    ),
    ("invite", "invitation", "invited", "inviting"),
    ("enroll", "enrol", "enrollment", "enrolment"),
    (
        "leaver",
        "leave",
        "leaves",
        "leaving",
        "left",
        "depart",
        "departing",
        "quit",
        "fired",
        "offboard",
        "offboarding",
        "terminated",
        "resign",
        "resigned",
    ),
    ("onboarding", "onboard", "hire", "hired", "starter", "joiner", "joining", "newcomer"),
    ("role", "permission", "permissions", "privilege", "privileges", "rights", "access"),
    ("administrator", "admin", "admins", "administrators"),
    ("approval", "approve", "approver", "authorise", "authorize", "authorization", "authorisation", "consent"),
    ("deactivate", "disable", "suspend", "block", "inactive", "prevent", "stop"),
    ("activate", "enable", "reactivate"),
    ("signin", "logon"),
    ("register", "registration"),
    ("password", "passcode", "passphrase"),
    ("reset", "forgot", "forgotten", "forget", "unlock", "locked", "lockout"),
    ("mfa", "2fa", "authenticator", "otp", "verification", "multifactor", "sms"),
    (
        "guest",
        "guests",
        "external",
        "outsider",
        "outside",
        "vendor",
        "vendors",
        "supplier",
        "suppliers",
        "contractor",
        "contractors",
        "freelancer",
    ),
    # company and profile
    ("company", "organization", "organisation", "business", "firm", "tenant"),
    ("address", "location", "street"),
    ("profile", "preferences"),
    ("contact", "reach", "notify", "notification", "notifications", "alert", "alerts"),
    ("agreement", "mca", "contract", "contracts"),
    ("portal", "website", "url"),
    ("find", "see", "view", "show", "check", "look", "locate", "list", "where"),
    # mail, files, devices
    ("email", "emails", "mail", "messages"),
    ("mailbox", "mailboxes", "inbox", "inboxes"),
    ("forward", "forwarding", "redirect"),
    ("storage", "space", "quota", "capacity", "full"),
    ("restore", "recover", "recovery", "undelete", "rollback", "retrieve"),
    (
        "device",
        "devices",
        "laptop",
        "laptops",
        "computer",
        "computers",
        "pc",
        "pcs",
        "phone",
        "phones",
        "mobile",
        "tablet",
        "mac",
        "iphone",
        "iphones",
        "ipad",
        "ipads",
        "android",
        "smartphone",
        "smartphones",
        "cellphone",
    ),
    ("install", "installation", "installs"),
    ("byod", "personal", "private"),
    ("malware", "virus", "viruses", "antivirus", "ransomware"),
    (
        "phishing",
        "phish",
        "scam",
        "spoof",
        "spam",
        "junk",
        "impersonation",
        "impersonate",
        "impersonating",
        "pretend",
        "pretending",
        "fake",
        "suspicious",
    ),
    ("recording", "recordings", "record", "recorded"),
    ("meeting", "meetings", "call", "calls", "calling"),
    ("budget", "budgets", "cap"),
    ("limit", "limits", "limited", "limiting", "restrict", "restricted", "restriction", "restrictions"),
    ("reservation", "reserved", "reservations", "savings"),
    ("domain", "dns", "mx", "spf", "dkim", "dmarc"),
    ("copilot", "ai", "chatgpt", "assistant", "bot", "chatbot"),
    ("outage", "down", "incident", "health", "degraded", "advisory", "advisories", "disruption", "offline"),
    ("sharepoint", "intranet"),
    ("pstn", "landline", "landlines"),
    ("trial", "trials", "free", "evaluate", "test", "try", "tryout"),
    ("gdap", "delegated", "dap"),
    # Microsoft products no article is about are still Microsoft's, not another vendor's
    ("microsoft", "visio", "powerbi", "powerapps", "powerautomate", "dynamics", "sway", "yammer", "viva"),
    ("country", "countries", "abroad", "overseas", "foreign"),
    (
        "mistake",
        "mistaken",
        "mistakenly",
        "accident",
        "accidental",
        "accidentally",
        "wrongly",
        "typo",
        "typos",
        "misspelled",
        "misspelt",
        "spelled",
        "spelt",
    ),
    ("newest", "latest", "recent"),
    ("data", "information", "info"),
    # how long ago or how long for, in days: "2 weeks ago" and "within 30 days" speak of the same thing
    ("week", "weeks", "day", "days", "hour", "hours", "fortnight", "month", "months"),
    ("overwritten", "overwrite", "overwrote", "overwriting", "overwrites"),
    ("trusted", "legitimate", "legit", "genuine"),
    # round 5: the provider (Opkalla is a Microsoft partner; "partners" of GDAP), not a guest
    ("partner", "partners", "reseller", "resellers", "msp"),
    ("blog", "blogs", "post", "posts", "news", "newsletter", "announcement", "announcements"),
    ("badge", "badges", "logo", "logos", "accreditation", "accredited"),
    ("finance", "accountant", "accountants", "bookkeeper", "bookkeeping", "accounting", "accounts"),
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


@lru_cache(maxsize=1)
def _concept_of() -> dict[str, str]:
    """Stem → concept (the stem of the group's first word); a word's first group wins."""
    mapping: dict[str, str] = {}
    for group in GROUPS:
        concept = mapping.get(stem(group[0]), stem(group[0]))  # a group whose head is taken joins that group
        for word in group:
            if " " in word:  # multi-word entries are matched as PHRASES, not here
                continue
            mapping.setdefault(stem(word), concept)
    return mapping


@lru_cache(maxsize=1)
def _members() -> dict[str, tuple[str, ...]]:
    """Concept → every surface word of its group (for the full-text query)."""
    members: dict[str, list[str]] = {}
    concept_of = _concept_of()
    for group in GROUPS:
        for word in group:
            if " " in word:
                continue
            members.setdefault(concept_of[stem(word)], []).append(word)
    return {c: tuple(dict.fromkeys(words)) for c, words in members.items()}


# Separable phrasal verbs: "take a license back" → unassign, "get my files back" → restore.
SEPARABLE: tuple[tuple[str, str, str], ...] = (
    (r"take|took|taking|takes", "back", "unassign"),
    (r"take|took|taking|takes", "away", "unassign"),
    (r"get|got|getting|bring|brought", "back", "restore"),
    (r"free|freeing|frees", "up", "unassign"),
    (r"turn|turning|switch|switching|shut", "off", "deactivate"),
    (r"turn|turning|switch|switching", "on", "activate"),
    (r"sign|signing|log|logging", "in", "signin"),
    (r"set|setting", "up", "setup"),
    (r"let|lets|letting", "go", "leaver"),  # "letting someone go this afternoon"
    (r"lock|locking", "out", "deactivate"),  # "lock them out" (being "locked out" is a reset)
)
_PHRASE_RE = [(re.compile(rf"\b{re.escape(p)}\b"), r) for p, r in PHRASES] + [
    (re.compile(rf"\b(?:{verbs})\b((?:\s+[\w']+){{0,3}}?)\s+{particle}\b"), rf"{replacement}\1")
    for verbs, particle, replacement in SEPARABLE
]


def words(text: str) -> list[str]:
    """Lower-case words after folding phrases, stop words kept (for display-free matching)."""
    text = re.sub(r"(?<=[a-z])[-.](?=[a-z])", " ", text.lower().replace("’", "'"))  # sign-in → sign in
    text = re.sub(r"\b(\d+)(kb|mb|gb|tb|am|pm)\b", r"\1 \2", text)  # 50gb → 50 gb
    text = re.sub(r"\b365\b(?!\s*days?\b)", "m365", text)  # "our 365", "Microsoft 365": the product, not a count
    text = re.sub(r"\b[a-z0-9]+@(?![a-z0-9])", " shared address ", text)  # "sales@": a team's shared address
    for pattern, replacement in _PHRASE_RE:
        text = pattern.sub(replacement, text)
    return WORD.findall(text)


def concept(word: str) -> str:
    """The concept a single lower-case word stands for (its stem when it is in no group)."""
    s = stem(word)
    return _concept_of().get(s, s)


# A number is mostly a count or a time ("3 more seats", "5 spare licenses", "2 weeks ago"): which number
# a customer has says nothing about which article answers (the unit, "weeks", still counts). A size does
# ("over 50 GB", "1 TB"): sizes are the limits articles state.
UNITS = frozenset("gb tb mb kb".split())


def meaningful_words(text: str) -> list[str]:
    """The words of a text that carry meaning: no stop words, no single letters, no bare counts."""
    found = words(text)
    return [
        word
        for i, word in enumerate(found)
        if word not in STOPWORDS
        and (stem(word) not in STOPWORDS or word in NOT_STOP_INFLECTIONS)
        and (len(word) > 1 or word.isdigit())
        and not (word.isdigit() and (i + 1 == len(found) or found[i + 1] not in UNITS))
    ]


def concepts(text: str) -> list[str]:
    """The meaningful concepts of a text, in order, without duplicates."""
    return list(dict.fromkeys(concept(word) for word in meaningful_words(text)))


def surface_words(concept_name: str, original: str = "") -> tuple[str, ...]:
    """Words to search for a concept: the question's own word first, then its synonyms."""
    found = _members().get(concept_name, ())
    return tuple(dict.fromkeys(([original] if original else []) + list(found) + ([concept_name] if not found else [])))


def query_words(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """[(concept, words to search)] for a question, in order."""
    result: dict[str, list[str]] = {}
    for word in meaningful_words(text):
        result.setdefault(concept(word), []).append(word)
    return [(c, tuple(dict.fromkeys(ws + list(surface_words(c))))) for c, ws in result.items()]


__all__ = [
    "GROUPS",
    "PHRASES",
    "STOPWORDS",
    "concept",
    "concepts",
    "meaningful_words",
    "query_words",
    "stem",
    "surface_words",
    "words",
]
