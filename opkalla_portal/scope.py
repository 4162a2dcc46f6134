"""What Spark AI is for, decided explicitly: an out-of-scope lexicon and the domain's anchor words.

Round 3 of issue 20. Before, only a low coverage of the question by the retrieved articles kept
off-topic questions out ("QuickBooks", "pizza" are in no article, so they weigh the most). That
also refused on-topic questions whose key word is an everyday word no article has ("warehouse").
Now the knowledge index asks two explicit questions first:

- does the question name something Spark AI does not support — another vendor's product or
  service, a non-IT topic (payroll, legal, cooking…), or IT that is not Microsoft 365/Azure
  administration (networking, faxes, keyboard shortcuts, using Excel itself)? A non-IT topic is
  refused whatever Microsoft word comes with it ("can Microsoft 365 run our payroll?"); another
  vendor or uncovered IT is refused unless a Microsoft product is named too, and then needs a
  higher coverage (`refuse_outright`, `knowledge.MIN_COVERAGE_OUT_OF_SCOPE`).
- does it speak of the domain at all — Microsoft 365, Azure, the portal, licenses, invoices,
  sign-in, mail…? Only then may a lower coverage answer (`knowledge.MIN_COVERAGE_IN_DOMAIN`).

The lists are general world knowledge written for the portal, not taken from evaluation
questions. A word any article uses is never out of scope (`KnowledgeIndex` removes those: when an
article mentions Gmail or printers, the word is the knowledge base's).
"""

from __future__ import annotations

import functools
import re

from opkalla_portal import vocabulary

# Other vendors' products and services: accounting, payroll, CRM, cloud, collaboration, office
# suites, security, telephony, web, shipping, consumer services.
OTHER_VENDORS = frozenset(
    """
quickbooks xero sage freshbooks netsuite myob expensify intuit turbotax
gusto adp paychex workday bamboohr rippling deel paylocity
crm erp salesforce hubspot zoho pipedrive zendesk freshdesk servicenow intercom mailchimp constantcontact
aws amazon ec2 s3 gcp bigquery digitalocean heroku linode vultr oracle sap ibm vmware citrix rackspace
google gsuite
slack zoom webex gotomeeting ringcentral vonage twilio dialpad 8x8 discord whatsapp telegram
dropbox icloud wetransfer egnyte
adobe acrobat photoshop illustrator indesign canva figma autocad
atlassian jira confluence trello asana clickup basecamp airtable smartsheet wrike
okta duo lastpass 1password bitwarden dashlane
norton mcafee kaspersky bitdefender avast sophos crowdstrike sentinelone malwarebytes webroot eset
fortinet fortigate sonicwall meraki cisco ubiquiti netgear paloalto watchguard
godaddy namecheap cloudflare wordpress wix squarespace shopify bluehost hostgator
stripe paypal venmo docusign hellosign pandadoc
yahoo aol protonmail proton fastmail zoho
hotmail
facebook instagram tiktok twitter snapchat pinterest youtube netflix spotify uber lyft airbnb ebay etsy
notion miro loom calendly teamviewer anydesk logmein splashtop vimeo verizon comcast vodafone quicken
fedex usps dhl
libreoffice openoffice
""".split()
)

# Topics that are not IT administration at all.
NON_IT_TOPICS = frozenset(
    """
taxes irs hmrc
lawsuit legal litigation
payroll salary salaries wage wages paycheck pension 401k maternity paternity recruit recruiting
weather forecast recipe recipes bake baking cook cooking restaurant pizza food lunch dinner coffee
football soccer basketball baseball sport sports movie movies film music song songs
poem poems joke jokes essay novel translate translation
medicine medical symptom symptoms diagnosis
crypto bitcoin mortgage insurance loan invest investment banking
magazine magazines newspaper newspapers
electricity utilities rent landlord parking
mall malls grocery groceries supermarket gym hotel hotels flight flights airline airport horoscope lottery
casino dating diet plumber plumbing electrician carpet furniture
shipping shipment courier
""".split()
)

# IT that is not Microsoft 365 / Azure administration and that no article covers: networks, office
# equipment, hardware, and using the Office apps themselves (the articles are about administering them).
UNCOVERED_IT = frozenset(
    """
vpn firewall router routers wifi wi ethernet internet broadband isp bandwidth modem
fax faxes scanner scanners copier toner ink
keyboard shortcut shortcuts screenshot screensaver wallpaper font fonts
bios motherboard cpu ram gpu
pivot vlookup xlookup formula formulas macro macros spreadsheet spreadsheets chart charts slide slides
animation animations spellcheck hyperlink
""".split()
)

# Multi-word names (matched on the lower-cased text, whole words).
OTHER_VENDOR_PHRASES = (
    "google workspace",
    "g suite",
    "google drive",
    "google docs",
    "google sheets",
    "google meet",
    "amazon web services",
    "palo alto",
    "constant contact",
    "monday.com",
    "office depot",
    "apple id",
    "icloud mail",
    # Microsoft's consumer plans are bought and refunded through a personal Microsoft account, not a partner
    "microsoft 365 family",
    "microsoft 365 personal",
    "office 365 home",
    "office 365 personal",
    "office home and student",
    "xbox",
    "game pass",
    # Round 8: an industry's own line-of-business software (whoever makes it) is not Microsoft 365's to administer
    "practice management",
    "imaging software",
    "accounting software",
    "point of sale",
    "pos system",
    "booking software",
    "scheduling software",
    "dispatch software",
    "pos till",
    "pos terminal",
    "cash register",
    "card reader",
    "card terminal",
    "card machine",  # round 18
    # Round 11: a personal mailbox is Microsoft's consumer service, not the business's tenant; a machine's own
    # software is its maker's. (Not "booking system": such systems run on Azure too, and are asked about so.)
    "personal microsoft account",
    "outlook.com",
    "live.com",
    "machine software",
)

# Microsoft's own products: a question naming one and another vendor ("copy data from Outlook into
# WhatsApp") may still be about administering Microsoft 365; one naming only the other vendor is not.
# "authenticator" (the MFA concept) counts: "Google Authenticator instead of Microsoft's" is a sign-in question.
MICROSOFT_PRODUCTS = """
m365 o365 outlook exchange teams onedrive sharepoint azure entra intune defender purview copilot windows
excel word powerpoint onenote authenticator
""".split()

# Words that put a question in Spark AI's domain: Microsoft 365, Azure, the portal and what a
# customer administers through them. Concepts, so "login"/"sign in" and "bill"/"invoice" count.
DOMAIN_ANCHORS = """
m365 o365 outlook exchange teams onedrive sharepoint azure entra intune defender purview
copilot windows excel word powerpoint onenote
opkalla portal subscription license invoice agreement catalog admin administrator
signin password mfa email mailbox domain guest role approval
""".split()

ANCHOR_PHRASES = (
    "microsoft 365",
    "office 365",
    "microsoft teams",
    "exchange online",
    "business premium",
    "business standard",
    "business basic",
)
_ANCHOR_PHRASE_RE = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in ANCHOR_PHRASES) + r")\b")
_PHRASE_RE = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in OTHER_VENDOR_PHRASES) + r")s?\b")  # "apple ids"
_WORD = re.compile(r"[a-z0-9]+")


# Round 14: another vendor's product or office equipment can be the *context* of a Microsoft 365 question, not
# its subject: the brand a phishing message fakes ("a fake DocuSign email"; round 16: named before a message, so
# "a fake Amazon order" stays Amazon's), the app staff copy data into ("into WhatsApp": stopping staff copying data
# out is data protection, while copying contacts into a CRM is the CRM's own business), an office device that
# sends mail through Exchange ("the copier scans to email over SMTP"), and an antivirus weighed against Microsoft's
# own ("do we still need Norton, or does Microsoft include antivirus").
_LURE = re.compile(
    r"\b(?:fake|spoofed|phishing|pretending to be|impersonating|posing as|claiming to be)\s+"
    r"(?:an?\s+|the\s+)?([a-z0-9]+)\s+(?:e-?mails?|messages?|texts?|links?|log-?ins?|pages?|sites?|websites?|"
    r"invoices?|calls?|notifications?|alerts?|warnings?)\b"
)
_DESTINATION = re.compile(r"\binto\s+(?:their\s+|the\s+|a\s+)?([a-z0-9]+)")
_PREVENT = re.compile(r"\b(?:stop|stopping|prevent|preventing|block|blocking|restrict|restricting)\b")
MAIL_DEVICES = frozenset("copier copiers scanner scanners printer printers".split())
_MAIL_PROTOCOL = re.compile(r"\b(?:smtp|imap|pop3?|basic auth\w*|legacy auth\w*|scan(?:s|ning)?[- ]to[- ]e-?mail)\b")
ANTIVIRUS = frozenset("norton mcafee kaspersky bitdefender avast sophos malwarebytes webroot eset".split())
_MICROSOFT_NAMED = frozenset(vocabulary.concept(w) for w in ("microsoft", "defender"))


@functools.lru_cache(maxsize=256)  # asked on every out-of-scope check of the same question
def context_words(text: str) -> frozenset[str]:
    """Words of the question that name the context of a Microsoft 365 question, not its subject (above)."""
    lowered = text.lower()
    found = {m.group(1) for m in _LURE.finditer(lowered)}
    if _PREVENT.search(lowered):
        found |= {m.group(1) for m in _DESTINATION.finditer(lowered)}
    words = set(_WORD.findall(lowered))
    if _MAIL_PROTOCOL.search(lowered):
        found |= words & MAIL_DEVICES
    antivirus = words & ANTIVIRUS
    if antivirus and not _MICROSOFT_NAMED.isdisjoint(vocabulary.concepts(lowered)):
        found |= antivirus
    return frozenset(found)


def out_of_scope_words(text: str, known_concepts: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The words of a question that name something Spark AI does not support.

    A word whose concept an article uses (`known_concepts`) is the knowledge base's, not out of scope.
    """
    lowered = text.lower()
    found = [m.group(0) for m in _PHRASE_RE.finditer(lowered)]
    found += non_it_phrases(lowered)
    lexicon = OTHER_VENDORS | NON_IT_TOPICS | UNCOVERED_IT
    words = _WORD.findall(lowered)
    if _names_what_a_customer_administers(lowered):  # "our line cook", "the restaurant group": their trade
        lexicon = lexicon - TRADE_CONTEXT
    context = context_words(text)
    for word in words:
        if word in lexicon and vocabulary.concept(word) not in known_concepts and word not in context:
            found.append(word)
    found += [name for name in named_applications(text, known_concepts) if name not in context]
    return list(dict.fromkeys(found))


# Round 8: what a customer administers in Microsoft 365 or the portal. A question that names one of these is
# about it, and an everyday topic beside it is the customer's own business ("a license for our new line cook",
# "chat in Teams with our food distributor"), not what is asked; without one, the topic is the subject ("the
# electricity bill", "a magazine subscription" name nothing here).
TRADE_CONTEXT = frozenset(
    """
restaurant restaurants pizza food lunch dinner coffee cook cooks cooking bake baking chef kitchen
football soccer basketball baseball sport sports movie movies film music song songs
mall malls grocery groceries supermarket gym hotel hotels flight flights airline airport
plumber plumbing electrician electrical carpet furniture shipping shipment courier medicine medical
maternity paternity
""".split()
)
_MICROSOFT_PLAN = frozenset(vocabulary.concepts("microsoft subscription"))
ADMINISTERED = frozenset(
    vocabulary.concept(w)
    for w in MICROSOFT_PRODUCTS + "portal opkalla license mailbox email password signin mfa".split()
)


@functools.lru_cache(maxsize=256)  # one question is checked several times (scope, coverage, answerability)
def _names_what_a_customer_administers(lowered: str) -> bool:
    concepts = set(vocabulary.concepts(lowered))
    return (
        bool(_ANCHOR_PHRASE_RE.search(lowered))
        or not ADMINISTERED.isdisjoint(concepts)
        or _MICROSOFT_PLAN <= concepts  # "which Microsoft plan should we get"
    )


# Microsoft's own apps that no article needs to name: never taken for another vendor's application.
MICROSOFT_APPS = frozenset(
    """
bookings planner whiteboard forms stream lists loop clipchamp publisher project access todo sway yammer viva visio
dynamics kaizala sharepoint onedrive outlook teams excel word powerpoint onenote exchange entra intune defender
purview copilot windows azure edge bing skype
""".split()
)
# Round 11: "in October" names a month, not an application.
MONTHS = frozenset(
    "january february march april may june july august september october november december"
    " jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# "reset a password in Dentrix", "add a user in Mindbody": a capitalised name the articles never mention, where the
# task happens, names an application of its own (round 5; "in Outlook" is known, "in outgoing email" is no name).
_NAMED_APP = re.compile(r"\b(?:in|into|inside|within|using|via)\s+([A-Z][A-Za-z0-9]+)\b(?!['’])")


def named_applications(text: str, known_concepts: frozenset[str] | set[str]) -> list[str]:
    """Names of applications the knowledge base does not know, written after "in"/"into"/"using"…"""
    if not known_concepts:
        return []
    return [
        name.lower()
        for name in _NAMED_APP.findall(text)
        if name.lower() not in MICROSOFT_APPS
        and name.lower() not in MONTHS
        and name.lower() not in vocabulary.STOPWORDS
        and vocabulary.concept(name.lower()) not in known_concepts
    ]


# Asking for advice on what to buy or whom to hire ("which printer should I buy", "recommend a good
# accountant", "which laptop is best") is shopping advice, not administration — unless it is about the
# domain itself ("which plan should we buy", "is Business Premium best for us").
ADVICE = re.compile(
    r"\b(?:recommend\w*|suggest\w*|(?:should|shall) (?:i|we) (?:buy|purchase|hire)"
    r"|which \w+(?: \w+)? (?:is|are) (?:the )?best|what(?:'s| is| are) the best (?!ways?\b|practices?\b)\w+)\b"
)
# Places and everyday errands: a question about them is not about Microsoft 365 whatever else it says.
# Round 8: licences a government or a body grants (not software licences), a bank's own website or app,
# and the tax or market side of money (regular expressions, matched on whole words of the lower-cased text).
NON_IT_PHRASES = (
    "near me",
    "nearby",
    "opening hours",
    "open on sunday",
    r"licen[cs]es? with the (?:city|state|county|council|town|board)",
    r"(?:city|state|county|contractor'?s?|liquor|alcohol|driver'?s?|driving|forklift|fishing|hunting|marriage"
    r"|pilot'?s?|nursing|medical|real estate|broker'?s?|professional) licen[cs]es?",
    # Round 17: licences that a council or a regulator grants (to sell alcohol, broadcast, moor a boat)
    r"(?:premises|broadcast(?:ing)?|mooring|tv|television|music|operator'?s?|taxi|gaming|gambling|entertainment"
    r"|street trading|waste|firearms?|shotgun)(?: \w+)? licen[cs]es?",  # round 18: "a waste carrier licence"
    r"licen[cs]es? (?:from|by|with|to) (?:the |our )?(?:local )?(?:regulator|authority|harbour authority"
    r"|port authority|licensing authority|government|ministry)",
    r"bank(?:'?s|ing)? (?:website|web site|site|app|online)",  # round 18: "my personal banking app"
    r"online banking",
    r"consumer (?:law|rights|protection)",  # round 19: the customer's own customers' rights
    r"(?:stock|share) price",
    r"tax[- ]deductible",
    r"deductible",
    r"(?:corporation|corporate|income|estimated|property|payroll) tax(?:es)?",
    r"tax (?:year|returns?|deductions?|write[- ]?offs?|credits?|rules|laws?|advice)",
    r"business expenses?",
    r"depreciation",
    # Round 11: the customer's own receivables: its clients' unpaid invoices are its business, not the portal's
    r"(?:clients?|customers?) (?:has|have|hasn'?t|haven'?t|has not|have not|didn'?t|did not|never|still hasn'?t)"
    r" (?:yet )?(?:paid|pay)",
    r"(?:chase|chasing) (?:up )?(?:a |the |our |late |unpaid )*(?:clients?|customers?|debtors?|debts?)",
    r"(?:send|sending|issue|issuing|raise|raising) (?:an |the )?invoices? to (?:a |our |my |the )?"
    r"(?:clients?|customers?)",
    r"(?:clients?|customers?|tenants?|debtors?) (?:still )?owes? us",  # not "Opkalla owes us a credit"
    # Round 11: licensing one's own work to others (copyright), not software licences
    r"licen[cs]e (?:our |the |these |those |some )?(?:images?|photos?|photographs?|pictures?|music|songs?|footage"
    r"|artwork|recordings of (?:our|the) \w+)",
)


_NON_IT_PHRASE_RES = [re.compile(rf"\b{p}\b") for p in NON_IT_PHRASES]


def non_it_phrases(lowered: str) -> list[str]:
    """The places, errands and other non-IT matters (NON_IT_PHRASES) the lower-cased text names."""
    return [m.group(0) for pattern in _NON_IT_PHRASE_RES if (m := pattern.search(lowered))]


def asks_for_advice_outside_domain(text: str, question_concepts: list[str]) -> bool:
    """Shopping or hiring advice that names nothing of the domain (no Microsoft product, portal or
    what a customer administers there)."""
    return bool(ADVICE.search(text.lower())) and not domain_anchors(question_concepts, text)


# Round 13: a system, account or licence of the customer's named by words no article has ("our dealer management
# system", "our ISBN account", "the MCS certification") is another vendor's or body's, like a named product.
_SYSTEM = re.compile(
    r"\b(?:our|my|the|their|your|his|her)\s+((?:[a-z][\w'-]*\s+){1,3}?)(?:systems?|software|apps?|applications?"
    r"|platforms?|accounts?|subscriptions?|licen[cs]es?|certifications?|certificates?|portals?|websites?|tools?)\b"
)


def named_systems(text: str, known_concepts: frozenset[str] | set[str]) -> list[str]:
    """Systems, accounts or licences named by a word no article has and no Microsoft product's."""
    found = []
    for match in _SYSTEM.finditer(text.lower()):
        words = match.group(1).split()
        if any(w in vocabulary.STOPWORDS for w in words):  # "our clinic on the account": not one name
            continue
        # A name's words are nouns: "her touching subscriptions", "our booking system" name nothing
        concepts = vocabulary.concepts(" ".join(w for w in words if not w.endswith("ing")))
        if any(c not in known_concepts for c in concepts) and not any(c in PRODUCT_CONCEPTS for c in concepts):
            found.append(match.group(0))
    return found


def refuse_outright(text: str, question_concepts: list[str], known_concepts: frozenset[str] | set[str]) -> bool:
    """Out of scope whatever the articles' coverage: a non-IT topic ("payroll", "pizza"), shopping
    advice outside the domain ("which printer should I buy"), or another vendor's product or
    uncovered IT named without any Microsoft product ("our Zoom licenses")."""
    if asks_for_advice_outside_domain(text, question_concepts):
        return True
    named = out_of_scope_words(text, known_concepts) + named_systems(text, known_concepts)
    if not named:
        return False
    if non_it_phrases(text.lower()) or any(word in NON_IT_TOPICS for word in named):
        return True
    return not (_ANCHOR_PHRASE_RE.search(text.lower()) or any(c in PRODUCT_CONCEPTS for c in question_concepts))


def domain_anchors(question_concepts: list[str], text: str = "") -> list[str]:
    """The question's concepts (and product names in its text) that place it in Microsoft 365 /
    Azure / portal administration. "Microsoft" alone does not: the Microsoft Store, a Microsoft
    certification exam are not what the articles are about."""
    return [m.group(0) for m in _ANCHOR_PHRASE_RE.finditer(text.lower())] + [
        c for c in question_concepts if c in _ANCHOR_CONCEPTS
    ]


PRODUCT_CONCEPTS = frozenset(vocabulary.concept(w) for w in MICROSOFT_PRODUCTS)
_ANCHOR_CONCEPTS = frozenset(vocabulary.concept(w) for w in DOMAIN_ANCHORS)

__all__ = [
    "DOMAIN_ANCHORS",
    "MICROSOFT_APPS",
    "MICROSOFT_PRODUCTS",
    "PRODUCT_CONCEPTS",
    "refuse_outright",
    "NON_IT_TOPICS",
    "OTHER_VENDORS",
    "UNCOVERED_IT",
    "domain_anchors",
    "named_applications",
    "out_of_scope_words",
]
