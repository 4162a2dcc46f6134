"""Microsoft Graph v1.0 as served by the emulator: users, subscribedSkus, assignLicense,
licenseDetails, organization and JSON $batch, with Graph's rules and error bodies."""

from __future__ import annotations

import base64
import random
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import delta
from .billing_api import BILLING_PREFIX, json_or_empty, route_billing
from .context import Emulator, graph_error_body, json_body, service_endpoint, utc_now_iso

MAX_BATCH = 20
DEFAULT_PAGE = 100
# "When you specify $select=signInActivity or $filter=signInActivity while listing users, the
# maximum page size for $top is 120" (Graph docs, user: list).
SIGN_IN_PAGE_MAX = 120
# Service plans of Entra ID P1/P2: signInActivity needs one of them in the tenant.
PREMIUM_PLANS = {"AAD_PREMIUM", "AAD_PREMIUM_P2"}
# Properties returned without $select (Graph's default user projection).
DEFAULT_USER_PROPS = [
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
]
USER_PROPS = set(DEFAULT_USER_PROPS) | {
    "department",
    "usageLocation",
    "accountEnabled",
    "assignedLicenses",
    "licenseAssignmentStates",
    "signInActivity",
    "createdDateTime",
    "companyName",
    "country",
}
GROUP_PROPS = {"id", "displayName", "securityEnabled", "mailEnabled"}
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"


class GraphResult:
    """An inner response: status, body, extra headers (shared by routes and $batch)."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def err(status: int, code: str, message: str, request: Request | None = None) -> GraphResult:
    return GraphResult(status, graph_error_body(code, message, request))


class GraphTenant:
    """Graph operations on one tenant's directory."""

    def __init__(self, emulator: Emulator, tenant: str, request: Request) -> None:
        self.emulator, self.tenant, self.request = emulator, tenant, request
        self.store = emulator.store

    # ------------------------------------------------------------- dispatch
    def dispatch(self, method: str, path: str, query: dict[str, str], body: Any, claims: dict) -> GraphResult:
        parts = [unquote(p) for p in path.strip("/").split("/") if p]
        method = method.upper()
        if parts == ["users"] and method == "GET":
            return self.list_users(query, claims)
        if parts in (["users", "delta"], ["users", "microsoft.graph.delta"]) and method == "GET":
            return self.users_delta(query, claims)
        if parts == ["me"] and method == "GET" and claims.get("idtyp") == "user":
            return self.get_user(claims["oid"], query, claims)
        if parts == ["me", "memberOf"] and method == "GET" and claims.get("idtyp") == "user":
            return self.member_of(claims["oid"])
        if len(parts) == 2 and parts[0] == "users" and method == "GET":
            return self.get_user(parts[1], query, claims)
        if len(parts) == 3 and parts[0] == "users" and parts[2] == "licenseDetails" and method == "GET":
            return self.license_details(parts[1])
        if len(parts) == 3 and parts[0] == "users" and parts[2] == "assignLicense" and method == "POST":
            return self.assign_license(parts[1], body)
        if parts == ["subscribedSkus"] and method == "GET":
            return self.subscribed_skus()
        if len(parts) == 2 and parts[0] == "subscribedSkus" and method == "GET":
            return self.subscribed_sku(parts[1])
        if len(parts) == 2 and parts[0] == "groups" and method == "GET":
            return self.get_group(parts[1], query)
        if parts == ["organization"] and method == "GET":
            return self.organization()
        segment = parts[-1] if parts else ""
        return err(400, "BadRequest", f"Resource not found for the segment '{segment}'.", self.request)

    # ---------------------------------------------------------------- users
    def _find_user(self, tx, key: str) -> dict | None:
        if "@" in key:
            return tx.get_by_key2("user", self.tenant, key.lower())
        return tx.get("user", key.lower(), self.tenant)

    def _project(self, user: dict, select: list[str] | None) -> dict:
        props = select or DEFAULT_USER_PROPS
        user = {**user, "licenseAssignmentStates": license_states(user)}
        return {p: user.get(p) for p in props if p in user or p in USER_PROPS}

    def _parse_select(self, query: dict[str, str]) -> list[str] | GraphResult | None:
        if "$select" not in query:
            return None
        select = [s.strip() for s in query["$select"].split(",") if s.strip()]
        for s in select:
            if s not in USER_PROPS:
                return err(
                    400,
                    "Request_BadRequest",
                    f"Could not find a property named '{s}' on type 'microsoft.graph.user'.",
                    self.request,
                )
        return select

    def _sign_in_refused(self, claims: dict) -> GraphResult | None:
        """signInActivity needs AuditLog.Read.All and a tenant with Entra ID P1 or P2
        (user resource, signInActivity property; 403 otherwise)."""
        granted = set(claims.get("roles") or []) | set((claims.get("scp") or "").split())
        if "AuditLog.Read.All" not in granted:
            return err(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", self.request
            )
        with self.store.read() as tx:
            skus = tx.list("sku", self.tenant)
        plans = {
            p.get("servicePlanName")
            for sku in skus
            if sku.get("capabilityStatus") != "Deleted" and int((sku.get("prepaidUnits") or {}).get("enabled") or 0) > 0
            for p in sku.get("servicePlans", [])
        }
        if not plans & PREMIUM_PLANS:
            return err(
                403,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
                self.request,
            )
        return None

    def list_users(self, query: dict[str, str], claims: dict | None = None) -> GraphResult:
        select = self._parse_select(query)
        if isinstance(select, GraphResult):
            return select
        wants_sign_in = "signInActivity" in (select or []) or "signInActivity" in query.get("$filter", "")
        if wants_sign_in:
            refused = self._sign_in_refused(claims or {})
            if refused:
                return refused
        raw_top = query.get("$top", str(DEFAULT_PAGE))
        try:
            top = int(raw_top)
        except ValueError:
            top = 0
        if not 1 <= top <= 999:
            return err(
                400,
                "Request_UnsupportedQuery",
                f"Invalid page size specified: '{raw_top}'. Must be between 1 and 999 inclusive.",
                self.request,
            )
        if wants_sign_in:
            top = min(top, SIGN_IN_PAGE_MAX)  # larger $top is served in pages of 120
        if "$skip" in query:
            return err(400, "Request_BadRequest", "'$skip' is not supported by the service.", self.request)
        predicate = parse_filter(query.get("$filter"))
        if predicate is False:
            return err(
                400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified.", self.request
            )
        after = decode_skiptoken(query.get("$skiptoken"))
        with self.store.read() as tx:
            if predicate is None:
                page = tx.list("user", self.tenant, after_id=after, limit=top + 1)
            else:  # filtered: scan the directory (fine for emulator sizes)
                page = [u for u in tx.list("user", self.tenant, after_id=after) if predicate(u)][: top + 1]
        body: dict[str, Any] = {
            "@odata.context": f"{self.emulator.graph_base(self.request)}/$metadata#users",
            "value": [self._project(u, select) for u in page[:top]],
        }
        if len(page) > top:
            next_query = {k: v for k, v in query.items() if k != "$skiptoken"}
            next_query["$skiptoken"] = encode_skiptoken(page[top - 1]["id"])
            body["@odata.nextLink"] = f"{self.emulator.graph_base(self.request)}/users?" + urlencode(
                next_query, safe="$,'() ", quote_via=quote
            )
        return GraphResult(200, body)

    def users_delta(self, query: dict[str, str], claims: dict | None = None) -> GraphResult:
        """GET /users/delta: one page of a round of change tracking (see emulator/delta.py)."""
        base = self.emulator.graph_base(self.request)
        refused = next((o for o in delta.REFUSED_OPTIONS if o in query), None)
        if refused:  # Microsoft: $expand, $orderby not supported for users; $filter only by id
            message = f"The query option '{refused}' is not supported with delta."
            return err(400, "Request_UnsupportedQuery", message, self.request)
        skip, token = query.get("$skiptoken") or "", query.get("$deltatoken") or ""
        if (skip or token) and "$select" in query:  # "Delta queries with both $select and $skipToken
            return err(  # will not be supported" (the overview); the select travels in the token
                400, "Request_BadRequest", "$select cannot be combined with a state token.", self.request
            )
        minimal = "return=minimal" in self.request.headers.get("prefer", "").replace(" ", "").lower()
        with self.store.read() as tx:
            upto_now = delta.current_seq(tx)
            if token == "latest":  # sync from now: no data, a deltaLink
                state = {"t": self.tenant, "e": tx.meta("delta_epoch"), "at": delta.issued_at(), "sel": None}
                state["since"] = upto_now
                return self._delta_page(base, [], {**state, "done": True}, tx)
            if skip or token:
                try:
                    state = delta.decode_token(tx, skip or token, self.tenant, "skip" if skip else "delta")
                except delta.TokenRefused as refusal:
                    result = err(refusal.status, refusal.code, refusal.message, self.request)
                    if refusal.status == 410:
                        result.headers["Location"] = delta.restart_link(base, refusal.select)
                    return result
                if token:  # a new round from a deltaLink: changes up to now
                    state = {**state, "upto": upto_now, "after": 0}
            else:
                select = self._parse_select(query)
                if isinstance(select, GraphResult):
                    return select
                bad = [p for p in select or [] if p in delta.NOT_SELECTABLE]
                if bad:  # observed answer (microsoft-graph-explorer-v4#3189)
                    return err(
                        400,
                        "BadRequest",
                        "Invalid request for delta query: for this entity set, $expand/$select is not "
                        f"supported for the following properties: {', '.join(bad)}",
                        self.request,
                    )
                state = {
                    "t": self.tenant,
                    "e": tx.meta("delta_epoch"),
                    "sel": select,
                    "phase": "initial",
                    "upto": upto_now,
                    "after": "",
                }
            select = state.get("sel")
            if state.get("phase") == "initial":
                users = tx.list("user", self.tenant, after_id=state["after"] or None, limit=delta.DELTA_PAGE + 1)
                entries = [self._delta_entry(u, select, None, minimal=False) for u in users[: delta.DELTA_PAGE]]
                if len(users) > delta.DELTA_PAGE:
                    state = {**state, "after": users[delta.DELTA_PAGE - 1]["id"], "at": delta.issued_at()}
                else:
                    state = {"t": state["t"], "e": state["e"], "sel": select, "since": state["upto"], "done": True}
                    state["at"] = delta.issued_at()
                return self._delta_page(base, entries, state, tx)
            page = delta.changes_page(
                tx, self.tenant, state["since"], state["upto"], state["after"], delta.DELTA_PAGE + 1
            )
            entries = []
            for uid, _, before in page[: delta.DELTA_PAGE]:
                user = tx.get("user", uid, self.tenant)
                if user is None:  # deleted (Entra keeps it restorable for 30 days: reason "changed")
                    entries.append({"id": uid, "@removed": {"reason": "changed"}})
                    continue
                changed = delta.changed_properties(before, user)
                if select is not None and "*" not in changed and not changed & set(select):
                    continue  # only what was selected is tracked (a page may hold fewer users)
                if changed:
                    entries.append(self._delta_entry(user, select, changed, minimal=minimal))
            if len(page) > delta.DELTA_PAGE:
                state = {**state, "after": page[delta.DELTA_PAGE - 1][1], "at": delta.issued_at()}
            else:
                state = {"t": state["t"], "e": state["e"], "sel": select, "since": state["upto"], "done": True}
                state["at"] = delta.issued_at()
            return self._delta_page(base, entries, state, tx)

    def _delta_entry(self, user: dict, select: list[str] | None, changed: set[str] | None, *, minimal: bool) -> dict:
        """A user as a delta page shows them: the selected properties that are set (a property
        never set is left out), those changed to null too; `minimal`: only the changed ones."""
        projected = self._project(user, select)
        changed = changed or set()
        created = "*" in changed
        entry = {}
        for prop, value in projected.items():
            if prop == "id":
                continue
            if minimal and not created and prop not in changed:
                continue
            if value is None and prop not in changed:
                continue
            entry[prop] = value
        entry["id"] = user["id"]
        return entry

    def _delta_page(self, base: str, entries: list[dict], state: dict, tx) -> GraphResult:
        body: dict[str, Any] = {"@odata.context": f"{base}/$metadata#users"}
        if state.pop("done", False):
            token = delta.encode_token(tx, {**state, "k": "delta"})
            body["@odata.deltaLink"] = delta.link(base, "$deltatoken", token)
        else:
            body["@odata.nextLink"] = delta.link(base, "$skiptoken", delta.encode_token(tx, {**state, "k": "skip"}))
        body["value"] = entries
        return GraphResult(200, body)

    def get_user(self, key: str, query: dict[str, str], claims: dict | None = None) -> GraphResult:
        select = self._parse_select(query)
        if isinstance(select, GraphResult):
            return select
        if "signInActivity" in (select or []):
            refused = self._sign_in_refused(claims or {})
            if refused:
                return refused
        with self.store.read() as tx:
            user = self._find_user(tx, key)
        if not user:
            return self._not_found(key)
        return GraphResult(200, self._project(user, select))

    def member_of(self, oid: str) -> GraphResult:
        """GET /me/memberOf (delegated, User.Read): the signed-in user's direct memberships.
        Directory roles come as microsoft.graph.directoryRole objects with roleTemplateId."""
        with self.store.read() as tx:
            persona = tx.get("persona", oid) or {}
        roles = []
        if persona.get("globalAdmin"):
            roles.append(
                {
                    "@odata.type": "#microsoft.graph.directoryRole",
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.tenant}/global-admin")),
                    "deletedDateTime": None,
                    "displayName": "Global Administrator",
                    "description": "Can manage all aspects of Microsoft Entra ID and Microsoft services "
                    "that use Microsoft Entra identities.",
                    "roleTemplateId": GLOBAL_ADMIN_TEMPLATE,
                }
            )
        context = f"{self.emulator.graph_base(self.request)}/$metadata#directoryObjects"
        return GraphResult(200, {"@odata.context": context, "value": roles})

    def get_group(self, key: str, query: dict[str, str]) -> GraphResult:
        select = [s.strip() for s in query.get("$select", "id,displayName").split(",") if s.strip()]
        unknown = [s for s in select if s not in GROUP_PROPS]
        if unknown:
            return err(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.group'.",
                self.request,
            )
        with self.store.read() as tx:
            group = tx.get("group", key.lower(), self.tenant)
        if not group:
            return self._not_found(key)
        return GraphResult(200, {p: group.get(p) for p in select})

    def _not_found(self, key: str) -> GraphResult:
        return err(
            404,
            "Request_ResourceNotFound",
            f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
            self.request,
        )

    # ------------------------------------------------------------ licenses
    def subscribed_skus(self) -> GraphResult:
        with self.store.read() as tx:
            skus = tx.list("sku", self.tenant)
        return GraphResult(
            200, {"@odata.context": f"{self.emulator.graph_base(self.request)}/$metadata#subscribedSkus", "value": skus}
        )

    def subscribed_sku(self, sku_key: str) -> GraphResult:
        with self.store.read() as tx:
            sku = tx.get("sku", sku_key, self.tenant)
        if not sku:
            return self._not_found(sku_key)
        return GraphResult(200, sku)

    def license_details(self, key: str) -> GraphResult:
        with self.store.read() as tx:
            user = self._find_user(tx, key)
            if not user:
                return self._not_found(key)
            details = []
            for lic in user.get("assignedLicenses", []):
                sku = tx.get("sku", f"{self.tenant}_{lic['skuId']}") or {}
                details.append(
                    {
                        "id": base64.urlsafe_b64encode(f"{user['id']}:{lic['skuId']}".encode()).decode().rstrip("="),
                        "skuId": lic["skuId"],
                        "skuPartNumber": sku.get("skuPartNumber"),
                        "servicePlans": [
                            {
                                **p,
                                "provisioningStatus": "Disabled"
                                if p["servicePlanId"] in lic.get("disabledPlans", [])
                                else "Success",
                            }
                            for p in sku.get("servicePlans", [])
                        ],
                    }
                )
        return GraphResult(200, {"value": details})

    def assign_license(self, key: str, body: Any) -> GraphResult:
        if not isinstance(body, dict):
            return err(400, "Request_BadRequest", "The request body is missing or is not valid JSON.", self.request)
        missing = [p for p in ("addLicenses", "removeLicenses") if not isinstance(body.get(p), list)]
        if missing:
            return err(
                400,
                "Request_BadRequest",
                "One or more parameters of the function import 'assignLicense' are missing from the "
                f"request payload. The missing parameters are: {', '.join(missing)}.",
                self.request,
            )
        adds = [a.get("skuId", "").lower() for a in body["addLicenses"] if isinstance(a, dict)]
        removes = [str(r).lower() for r in body["removeLicenses"]]
        with self.store.transaction() as tx:  # check seats and write atomically
            user = self._find_user(tx, key)
            if not user:
                return self._not_found(key)
            held = {lic["skuId"].lower() for lic in user.get("assignedLicenses", [])}
            skus: dict[str, dict] = {}
            for sku_id in adds + removes:
                sku = tx.get("sku", f"{self.tenant}_{sku_id}")
                if sku is None:
                    return err(
                        400,
                        "Request_BadRequest",
                        f"License {sku_id} does not correspond to a valid company License.",
                        self.request,
                    )
                skus[sku_id] = sku
            states = user["licenseAssignmentStates"] = license_states(user)
            for sku_id in removes:
                if sku_id not in held:
                    return err(
                        400,
                        "Request_BadRequest",
                        f"User does not have a corresponding license {sku_id} to remove.",
                        self.request,
                    )
                if not any(st["skuId"].lower() == sku_id and not st.get("assignedByGroup") for st in states):
                    # Group-based licensing: Graph answers this 400 (Request_BadRequest) for a
                    # license only a group assigns (see docs/microsoft.md).
                    return err(
                        400,
                        "Request_BadRequest",
                        "User license is inherited from a group membership "
                        "and it cannot be removed directly from the user.",
                        self.request,
                    )
            # A license held through a group as well as directly keeps its seat when the
            # direct assignment goes: only the direct state is removed.
            still_by_group = {st["skuId"].lower() for st in states if st.get("assignedByGroup")}
            new_adds = [s for s in adds if s not in held]
            if new_adds and not user.get("usageLocation"):
                return err(
                    400,
                    "Request_BadRequest",
                    "License assignment cannot be done for user with invalid usage location.",
                    self.request,
                )
            for sku_id in new_adds:
                sku = skus[sku_id]
                if sku["capabilityStatus"] not in ("Enabled", "Warning") or sku["appliesTo"] != "User":
                    return err(
                        400,
                        "Request_BadRequest",
                        f"License {sku_id} cannot be assigned: its subscription is {sku['capabilityStatus']}.",
                        self.request,
                    )
                if sku["consumedUnits"] >= sku["prepaidUnits"]["enabled"] + sku["prepaidUnits"]["warning"]:
                    # Wording observed but unverified in Microsoft's docs.
                    return err(
                        400,
                        "Request_BadRequest",
                        f"Subscription with SKU {sku_id} does not have any available licenses.",
                        self.request,
                    )
            disabled = {
                a.get("skuId", "").lower(): a.get("disabledPlans") or []
                for a in body["addLicenses"]
                if isinstance(a, dict)
            }
            dropped = [s for s in removes if s not in still_by_group]
            user["licenseAssignmentStates"] = [
                st for st in states if st.get("assignedByGroup") or st["skuId"].lower() not in removes
            ]
            licenses = [lic for lic in user.get("assignedLicenses", []) if lic["skuId"].lower() not in dropped]
            for lic in licenses:
                if lic["skuId"].lower() in disabled:
                    lic["disabledPlans"] = disabled[lic["skuId"].lower()]
            licenses += [{"skuId": s, "disabledPlans": disabled.get(s, [])} for s in new_adds]
            directly = {st["skuId"].lower() for st in user["licenseAssignmentStates"] if not st.get("assignedByGroup")}
            user["licenseAssignmentStates"] += [
                {
                    "assignedByGroup": None,
                    "disabledPlans": disabled.get(s, []),
                    "error": "None",
                    "lastUpdatedDateTime": utc_now_iso() + "Z",
                    "skuId": s,
                    "state": "Active",
                }
                for s in adds
                if s not in directly
            ]
            user["assignedLicenses"] = licenses
            tx.put("user", user["id"], user, tenant=self.tenant, key2=user["userPrincipalName"].lower())
            for sku_id in new_adds:
                skus[sku_id]["consumedUnits"] += 1
            for sku_id in dropped:
                skus[sku_id]["consumedUnits"] = max(0, skus[sku_id]["consumedUnits"] - 1)
            for sku_id in set(new_adds + dropped):
                tx.put("sku", skus[sku_id]["id"], skus[sku_id], tenant=self.tenant)
        return GraphResult(
            200,
            {
                "@odata.context": f"{self.emulator.graph_base(self.request)}/$metadata#users/$entity",
                **self._project(user, None),
                "assignedLicenses": user["assignedLicenses"],
            },
        )

    def organization(self) -> GraphResult:
        with self.store.read() as tx:
            tenant = tx.get("tenant", self.tenant) or {}
        return GraphResult(
            200,
            {
                "value": [
                    {
                        "id": self.tenant,
                        "displayName": tenant.get("displayName"),
                        "verifiedDomains": [{"name": tenant.get("domain"), "isDefault": True}],
                        "countryLetterCode": tenant.get("countryLetterCode", "US"),
                    }
                ]
            },
        )


def license_states(user: dict) -> list[dict]:
    """The user's licenseAssignmentStates; users created without them hold direct licenses."""
    if "licenseAssignmentStates" in user:
        return user["licenseAssignmentStates"]
    return [
        {
            "assignedByGroup": None,
            "disabledPlans": lic.get("disabledPlans", []),
            "error": "None",
            "lastUpdatedDateTime": None,
            "skuId": lic["skuId"],
            "state": "Active",
        }
        for lic in user.get("assignedLicenses", [])
    ]


# ------------------------------------------------------------ query helpers
def encode_skiptoken(last_id: str) -> str:
    return base64.urlsafe_b64encode(f"RFNwdAIAAQAAA:{last_id}".encode()).decode().rstrip("=")


def decode_skiptoken(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(":", 1)[1]
    except (ValueError, IndexError):
        return None


_CLAUSE = re.compile(
    r"^\s*(?:(\w+)\s+eq\s+('(?:[^']|'')*'|true|false|null)"  # prop eq 'value' | true | false | null
    r"|startswith\((\w+),\s*'((?:[^']|'')*)'\))\s*$",  # startswith(prop,'prefix')
    re.IGNORECASE,
)


def _equals(actual: Any, expected: Any) -> bool:
    """OData eq on strings is case-insensitive in Graph's directory queries."""
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.lower() == expected.lower()
    return actual == expected


def parse_filter(text: str | None):
    """A predicate for the subset of OData $filter the emulator understands: ``prop eq
    'v'|true|false|null`` and ``startswith(prop,'v')`` joined by ``and``. None: no filter;
    False: unsupported."""
    if not text:
        return None
    tests = []
    for clause in re.split(r"\s+and\s+", text, flags=re.IGNORECASE):
        m = _CLAUSE.match(clause)
        if not m:
            return False
        if m.group(1):
            prop, raw = m.group(1), m.group(2)
            value: Any = {"true": True, "false": False, "null": None}.get(raw.lower(), raw[1:-1].replace("''", "'"))
            tests.append(lambda u, p=prop, v=value: _equals(u.get(p), v))
        else:
            prop, prefix = m.group(3), m.group(4).replace("''", "'").lower()
            tests.append(lambda u, p=prop, x=prefix: str(u.get(p) or "").lower().startswith(x))
    return lambda u: all(t(u) for t in tests)


# ------------------------------------------------------------------ routes
def graph_routes(emulator: Emulator) -> list[Route]:
    @service_endpoint(emulator, "graph")
    async def graph(request: Request) -> Response:
        claims = request.state.claims
        tenant = claims["tid"]
        path = request.path_params["path"]
        ops = GraphTenant(emulator, tenant, request)
        if path.strip("/").startswith(BILLING_PREFIX + "/"):  # the partner's billing exports
            body = await json_body(request)
            status, payload, extra = route_billing(emulator, request.method, path, body, claims, request) or (
                404,
                None,
                {},
            )
            return json_or_empty(status, payload, extra)
        if not (path.strip("/").split("/")[0] == "me" and claims.get("idtyp") == "user"):
            with emulator.store.read() as tx:
                consented = tx.get("consent", tenant) is not None
            if not consented:
                return JSONResponse(
                    graph_error_body(
                        "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", request
                    ),
                    status_code=403,
                )
        body = await json_body(request)
        if isinstance(body, ValueError):
            return JSONResponse(graph_error_body("BadRequest", "Invalid request body.", request), status_code=400)
        if path.strip("/") == "$batch" and request.method == "POST":
            result = run_batch(emulator, ops, body, claims, request)
        else:
            query = dict(request.query_params)
            result = ops.dispatch(request.method, path, query, body, claims)
        headers = {"request-id": str(uuid.uuid4()), "client-request-id": request.headers.get("client-request-id", "")}
        return JSONResponse(result.body, status_code=result.status, headers={**headers, **result.headers})

    return [Route("/{path:path}", graph, methods=["GET", "POST", "PATCH", "DELETE"])]


def batch_execution_order(requests: list[dict], rng: random.Random) -> list[str] | None:
    """The order the emulator runs a batch in: random (seeded), except that a request runs
    only after every request it ``dependsOn``. Graph documents no order without dependsOn
    ("This value allows the server to process requests in the batch in the most efficient
    order"), so clients must not rely on one. None when the dependencies form a cycle."""
    waiting = {str(r["id"]): {str(d) for d in (r.get("dependsOn") or [])} for r in requests}
    order: list[str] = []
    while waiting:
        ready = sorted(rid for rid, deps in waiting.items() if deps <= set(order))
        if not ready:
            return None
        rid = rng.choice(ready)
        order.append(rid)
        del waiting[rid]
    return order


def run_batch(emulator: Emulator, ops: GraphTenant, body: Any, claims: dict, request: Request) -> GraphResult:
    """Execute a JSON batch: each request on its own (own throttling), in a seeded random
    order that honours dependsOn (424 for dependents of a failed request)."""
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        return err(400, "BadRequest", "Invalid batch payload format.", request)
    if len(requests) > MAX_BATCH:
        # Message wording unverified; the limit of 20 is documented.
        return err(
            400, "BadRequest", f"Too many requests in the batch: {len(requests)}. The limit is {MAX_BATCH}.", request
        )
    ids = [str(r.get("id", "")) for r in requests]
    if len(set(ids)) != len(ids) or "" in ids:
        return err(400, "BadRequest", "Batch request contains duplicate or missing request ids.", request)
    for r in requests:
        headers = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
        if r.get("body") is not None and "content-type" not in headers:
            return err(
                400,
                "BadRequest",
                f"Write request id : {r['id']} does not contain Content-Type header or body.",
                request,
            )
    by_id = {str(r["id"]): r for r in requests}
    for r in requests:
        depends = r.get("dependsOn")
        if depends is not None and (
            not isinstance(depends, list) or any(str(d) not in by_id or str(d) == str(r["id"]) for d in depends)
        ):
            return err(
                400, "BadRequest", f"Request id {r['id']} depends on a request that is not in the batch.", request
            )
    order = batch_execution_order(requests, emulator.batch_rng)
    if order is None:
        return err(400, "BadRequest", "The dependsOn references of the batch form a cycle.", request)
    config = getattr(request.state, "fault_config", None)
    statuses: dict[str, int] = {}
    responses = []
    for rid in order:
        r = by_id[rid]
        depends = [str(d) for d in (r.get("dependsOn") or [])]
        if any(statuses[d] >= 400 for d in depends):
            # "If an individual request fails, any request that depends on that request fails
            # with status code 424 (Failed Dependency)." (concepts/json-batching.md)
            result = err(424, "FailedDependency", "The dependent request failed.", request)
        else:
            decision = (
                emulator.faults.decide(config, "graph", throttle_only=True, include_latency=False) if config else None
            )
            if decision and decision.throttle:
                after = decision.retry_after
                retry = str(int(after)) if float(after).is_integer() else str(after)
                result = GraphResult(
                    429, graph_error_body("TooManyRequests", "Too many requests.", request), {"Retry-After": retry}
                )
            else:
                split = urlsplit(str(r.get("url", "")))
                path = split.path
                if path.startswith("/v1.0/"):
                    path = path[5:]
                query = dict(parse_qsl(split.query))
                result = ops.dispatch(str(r.get("method", "GET")), path, query, r.get("body"), claims)
        statuses[rid] = result.status
        responses.append(
            {
                "id": rid,
                "status": result.status,
                "headers": {"Content-Type": "application/json", **result.headers},
                "body": result.body,
            }
        )
    # "Individual responses might appear in a different order than the requests."
    emulator.batch_rng.shuffle(responses)
    return GraphResult(200, {"responses": responses})


__all__ = ["graph_routes", "GraphTenant"]
