"""The emulator's Partner Center catalog: products -> SKUs -> availabilities with prices.

Products come from the product-names table (so Graph skuIds and Partner Center offers
line up) plus usage-based Azure offers. Ids of products the demo customers own are taken
from demo_data; the rest are stable, made-up ids in Microsoft's format (CFQ7TTC0xxxx).
List prices are plausible US prices per user per month, not Microsoft's price list.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from opkalla_portal.demo import demo_data

from ..product_names import product as product_by_part

# (skuPartNumber, category, monthly price on an annual term, flags)
# flags: "addon", "p3y" (three-year term offered), "annual_only" (no monthly term)
OFFERS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("SPB", "Microsoft 365", "22.00", ("p3y",)),
    ("O365_BUSINESS_ESSENTIALS", "Microsoft 365", "6.00", ()),
    ("O365_BUSINESS_PREMIUM", "Microsoft 365", "12.50", ()),
    ("O365_BUSINESS", "Microsoft 365", "8.25", ()),
    ("OFFICESUBSCRIPTION", "Microsoft 365", "12.00", ()),
    ("SPE_E3", "Microsoft 365", "36.00", ("p3y",)),
    ("SPE_E5", "Microsoft 365", "57.00", ("p3y",)),
    ("SPE_F1", "Microsoft 365", "8.00", ()),
    ("M365_F1", "Microsoft 365", "2.25", ()),
    ("STANDARDPACK", "Office 365", "10.00", ()),
    ("ENTERPRISEPACK", "Office 365", "23.00", ()),
    ("ENTERPRISEPREMIUM", "Office 365", "38.00", ()),
    ("DESKLESSPACK", "Office 365", "4.00", ()),
    ("EXCHANGESTANDARD", "Exchange", "4.00", ()),
    ("EXCHANGEENTERPRISE", "Exchange", "8.00", ()),
    ("EXCHANGEDESKLESS", "Exchange", "2.00", ()),
    ("EXCHANGEARCHIVE_ADDON", "Exchange", "3.00", ("addon",)),
    ("EOP_ENTERPRISE", "Exchange", "1.00", ()),
    ("AAD_PREMIUM", "Security", "6.00", ()),
    ("AAD_PREMIUM_P2", "Security", "9.00", ()),
    ("INTUNE_A", "Security", "8.00", ()),
    ("EMS", "Security", "10.60", ()),
    ("EMSPREMIUM", "Security", "16.40", ()),
    ("DEFENDER_FOR_BUSINESS", "Security", "3.00", ()),
    ("ATP_ENTERPRISE", "Security", "2.00", ()),
    ("Microsoft_365_Copilot", "Copilot", "30.00", ("annual_only",)),
    ("MCOMEETADV", "Teams", "4.00", ("addon",)),
    ("MCOEV", "Teams", "8.00", ("addon",)),
    ("Microsoft_Teams_Premium", "Teams", "10.00", ("addon",)),
    ("Teams_Ess", "Teams", "4.00", ()),
    ("Microsoft_Teams_Rooms_Pro", "Teams", "40.00", ()),
    ("POWER_BI_PRO", "Power Platform", "14.00", ()),
    ("PBI_PREMIUM_PER_USER", "Power Platform", "24.00", ()),
    ("POWERAPPS_PER_USER", "Power Platform", "20.00", ()),
    ("POWERAUTOMATE_ATTENDED_RPA", "Power Platform", "15.00", ()),
    ("VISIOONLINE_PLAN1", "Visio", "5.00", ()),
    ("VISIOCLIENT", "Visio", "15.00", ()),
    ("PROJECT_P1", "Project", "10.00", ()),
    ("PROJECTPROFESSIONAL", "Project", "30.00", ()),
    ("PROJECTPREMIUM", "Project", "55.00", ()),
    ("WIN10_VDA_E3", "Windows", "7.00", ("p3y",)),
    ("CPC_E_2C_8GB_128GB", "Windows", "41.00", ()),
    ("DYN365_ENTERPRISE_SALES", "Dynamics 365", "105.00", ("p3y",)),
    ("DYN365_ENTERPRISE_CUSTOMER_SERVICE", "Dynamics 365", "105.00", ("p3y",)),
    ("DYN365_BUSCENTRAL_ESSENTIAL", "Dynamics 365", "80.00", ("p3y",)),
    ("DYN365_BUSCENTRAL_PREMIUM", "Dynamics 365", "110.00", ("p3y",)),
    ("DYN365_TEAM_MEMBERS", "Dynamics 365", "8.00", ()),
    ("SHAREPOINTSTANDARD", "SharePoint", "5.00", ()),
    ("WACONEDRIVESTANDARD", "SharePoint", "5.00", ()),
]

# Usage-based Azure offers (no seats; billed from rated usage).
AZURE_OFFERS = [
    (
        "DZH318Z0BCZC",
        "0001",
        "DZH318Z0BCZC0001",
        "Azure plan",
        "Pay-as-you-go Azure consumption billed monthly from rated daily usage.",
    ),
    (
        "DZH318Z0BQ3Q",
        "0001",
        "DZH318Z0BQ3Q0001",
        "Azure Reserved VM Instances",
        "One- or three-year reservations for Azure virtual machines.",
    ),
    (
        "DZH318Z0BPS6",
        "0001",
        "DZH318Z0BPS60001",
        "Azure Savings Plan for Compute",
        "Hourly commitment discount for Azure compute services.",
    ),
]

MONTHLY_TERM_UPLIFT = Decimal("1.20")  # month-to-month costs 20% more than an annual term
THREE_YEAR_DISCOUNT = Decimal("0.95")


def _made_up_id(prefix: str, key: str) -> str:
    digest = hashlib.sha1(key.encode()).hexdigest().upper()
    alphabet = "0123456789BCDFGHJKLMNPQRSTVWXZ"
    return prefix + "".join(alphabet[int(digest[i : i + 2], 16) % len(alphabet)] for i in range(0, 8, 2))


def _demo_ids() -> dict[str, tuple[str, str, str]]:
    """skuPartNumber -> (productId, skuId, availabilityId) for offers demo customers own."""
    return {
        s.sku_part_number: (s.product_id, s.sku_id, s.availability_id)
        for s in demo_data.SUBSCRIPTIONS
        if s.sku_part_number
    }


def _terms(monthly_price: Decimal, flags: tuple[str, ...]) -> list[dict]:
    def term(duration: str, cycle: str, price: Decimal, description: str) -> dict:
        return {
            "duration": duration,
            "description": description,
            "billingCycle": cycle,
            # Emulator convenience: the price list entry for this term (per unit per month).
            "price": {"listPrice": float(price.quantize(Decimal("0.01"))), "currency": "USD", "per": "month"},
            "cancellationPolicies": [{"refunds": [{"type": "Full", "sequenceId": 1, "expiresAfter": "P7D"}]}],
        }

    terms = []
    if "annual_only" not in flags:
        terms.append(term("P1M", "monthly", monthly_price * MONTHLY_TERM_UPLIFT, "One-Month commitment"))
    terms.append(term("P1Y", "monthly", monthly_price, "One-Year commitment, billed monthly"))
    terms.append(term("P1Y", "annual", monthly_price, "One-Year commitment, billed annually"))
    if "p3y" in flags:
        terms.append(
            term("P3Y", "annual", monthly_price * THREE_YEAR_DISCOUNT, "Three-Year commitment, billed annually")
        )
        terms.append(
            term("P3Y", "triennial", monthly_price * THREE_YEAR_DISCOUNT, "Three-Year commitment, billed up front")
        )
    return terms


def build_catalog() -> list[dict]:
    """Products with nested ``skus`` and their ``availabilities`` (seed form)."""
    demo_ids = _demo_ids()
    products: list[dict] = []
    for part, category, price, flags in OFFERS:
        info = product_by_part(part)
        title = info.display_name if info else part
        pid, sid, aid = demo_ids.get(part) or (
            _made_up_id("CFQ7TTC0", part),
            "0001",
            _made_up_id("CFQ7TTC0", part + ":a"),
        )
        terms = _terms(Decimal(price), flags)
        products.append(
            {
                "id": pid,
                "title": title,
                "description": f"{title}: "
                + ", ".join(p["friendlyName"] for p in (info.service_plans if info else [])),
                "productType": {"id": "OnlineServices", "displayName": "OnlineServices"},
                "category": category,
                "skus": [
                    {
                        "id": sid,
                        "productId": pid,
                        "title": title,
                        "description": title,
                        "minimumQuantity": 1,
                        "maximumQuantity": 300,
                        "isTrial": False,
                        "supportedBillingCycles": sorted({t["billingCycle"] for t in terms}),
                        "purchasePrerequisites": [],
                        "dynamicAttributes": {
                            "isAddon": "addon" in flags,
                            # Emulator addition: the Graph SKU this offer provisions.
                            "skuPartNumber": part,
                            "graphSkuId": info.guid if info else None,
                        },
                        "availabilities": [
                            {
                                "id": aid,
                                "productId": pid,
                                "skuId": sid,
                                "catalogItemId": f"{pid}:{sid}:{aid}",
                                "defaultCurrency": {"code": "USD", "symbol": "$"},
                                "segment": "commercial",
                                "country": "US",
                                "isPurchasable": True,
                                "isRenewable": True,
                                "terms": terms,
                            }
                        ],
                    }
                ],
            }
        )
    for pid, sid, aid, title, description in AZURE_OFFERS:
        products.append(
            {
                "id": pid,
                "title": title,
                "description": description,
                "productType": {"id": "Azure", "displayName": "Azure"},
                "category": "Azure",
                "skus": [
                    {
                        "id": sid,
                        "productId": pid,
                        "title": title,
                        "description": description,
                        "minimumQuantity": 1,
                        "maximumQuantity": 1,
                        "isTrial": False,
                        "supportedBillingCycles": ["monthly"],
                        "purchasePrerequisites": [],
                        "dynamicAttributes": {"isAddon": False, "skuPartNumber": None, "graphSkuId": None},
                        "availabilities": [
                            {
                                "id": aid,
                                "productId": pid,
                                "skuId": sid,
                                "catalogItemId": f"{pid}:{sid}:{aid}",
                                "defaultCurrency": {"code": "USD", "symbol": "$"},
                                "segment": "commercial",
                                "country": "US",
                                "isPurchasable": True,
                                "isRenewable": True,
                                "terms": [
                                    {
                                        "duration": "P1M",
                                        "description": "Usage-based",
                                        "billingCycle": "monthly",
                                        "price": {"listPrice": 0.0, "currency": "USD", "per": "usage"},
                                        "cancellationPolicies": [],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        )
    return products
