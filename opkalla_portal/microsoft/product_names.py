"""Friendly product names from Microsoft's "Product names and service plan identifiers" CSV.

``data/product_names.csv`` uses Microsoft's published format (one row per product and
service plan); ``data/product_aliases.csv`` adds the other names customers use for a
product (old names, shorthands) so searches find it under any of them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")


@dataclass
class Product:
    display_name: str
    string_id: str  # Graph skuPartNumber
    guid: str  # Graph skuId
    service_plans: list[dict[str, str]] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [self.display_name, *self.aliases]


@lru_cache(maxsize=1)
def _products() -> dict[str, Product]:
    """Products keyed by lower-case String_Id and GUID."""
    by_key: dict[str, Product] = {}
    with open(DATA_DIR / "product_names.csv", newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            product = by_key.get(row["String_Id"].lower())
            if product is None:
                product = Product(row["Product_Display_Name"], row["String_Id"], row["GUID"].lower())
                by_key[product.string_id.lower()] = by_key[product.guid] = product
            product.service_plans.append(
                {
                    "servicePlanName": row["Service_Plan_Name"],
                    "servicePlanId": row["Service_Plan_Id"],
                    "friendlyName": row["Service_Plans_Included_Friendly_Names"],
                }
            )
    with open(DATA_DIR / "product_aliases.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            product = by_key.get(row["String_Id"].lower())
            if product and row["Alias"] not in product.names:
                product.aliases.append(row["Alias"])
    return by_key


def all_products() -> list[Product]:
    """Each product once, in file order."""
    seen: dict[str, Product] = {}
    for product in _products().values():
        seen.setdefault(product.string_id, product)
    return list(seen.values())


def product(sku_part_number_or_guid: str) -> Product | None:
    return _products().get((sku_part_number_or_guid or "").strip().lower())


def friendly_name(sku_part_number_or_guid: str) -> str:
    """``SPB`` or its GUID -> "Microsoft 365 Business Premium"; unknown ids come back unchanged."""
    found = product(sku_part_number_or_guid)
    return found.display_name if found else sku_part_number_or_guid


def service_plans(sku_part_number_or_guid: str) -> list[dict[str, str]]:
    found = product(sku_part_number_or_guid)
    return list(found.service_plans) if found else []


def search_aliases(name: str) -> list[str]:
    """Every name a search for ``name`` should also look for.

    Products whose display name, alias or part number equals ``name`` come first (so
    "Microsoft 365 Business" -> "Microsoft 365 Business Premium" plus its other names),
    followed by the names of products where ``name`` is part of a name. Always includes
    ``name`` itself.
    """
    query = name.strip().lower()
    if not query:
        return []
    exact, partial = [], []
    for p in all_products():
        candidates = [n.lower() for n in p.names] + [p.string_id.lower()]
        if query in candidates:
            exact.append(p)
        elif any(query in c for c in candidates):
            partial.append(p)
    result = [name]
    for p in exact + partial:
        for n in p.names:
            if n not in result:
                result.append(n)
    return result


def matches(query: str, product_name: str) -> bool:
    """Does a catalog product called ``product_name`` match a customer's search ``query``?"""
    q = query.strip().lower()
    if not q:
        return True
    if q in product_name.lower():
        return True
    return product_name.lower() in {n.lower() for n in search_aliases(query)}
