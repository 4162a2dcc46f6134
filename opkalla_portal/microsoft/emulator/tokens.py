"""The emulator's token service: an RSA signing key kept in the store, JWT issue/verify."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ACCESS_TOKEN_LIFETIME = 3600
ID_TOKEN_LIFETIME = 3600
GRAPH_AUDIENCE = "https://graph.microsoft.com"
PARTNER_CENTER_AUDIENCE = "https://api.partnercenter.microsoft.com"


class Signer:
    """Signs and verifies the emulator's JWTs. The key is generated once per database."""

    def __init__(self, pem: str) -> None:
        self.private_key = serialization.load_pem_private_key(pem.encode(), password=None)
        self.public_key = self.private_key.public_key()
        der = self.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip("=")

    @staticmethod
    def load_or_create(tx) -> Signer:
        pem = tx.meta("signing_key")
        if not pem:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            tx.set_meta("signing_key", pem)
        return Signer(pem)

    def jwks(self) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256", "kty": "RSA"})
        return {"keys": [jwk]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})

    def verify(self, token: str, audience: str | list[str] | None = None) -> dict:
        """Claims of a token this emulator issued; raises jwt.PyJWTError otherwise."""
        return jwt.decode(
            token,
            self.public_key,
            algorithms=["RS256"],
            audience=audience,
            options={"verify_aud": audience is not None, "require": ["exp", "iat", "tid"]},
        )


def access_token_claims(
    *,
    issuer: str,
    audience: str,
    tid: str,
    client_id: str,
    scope: str | None,
    oid: str | None = None,
    name: str | None = None,
    upn: str | None = None,
    roles: list[str] | None = None,
    wids: list[str] | None = None,
    amr: list[str] | None = None,
) -> dict:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "tid": tid,
        "appid": client_id,
        "azp": client_id,
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TOKEN_LIFETIME,
        "ver": "2.0",
        "uti": uuid.uuid4().hex,
    }
    if oid:  # delegated token
        # amr: how the user authenticated ("pwd", "mfa"); Partner Center looks for "mfa" in
        # App+User tokens (Microsoft identity platform access token claims reference).
        claims.update(
            {
                "oid": oid,
                "sub": oid,
                "name": name,
                "upn": upn,
                "scp": scope or "",
                "idtyp": "user",
                "amr": list(amr or ["pwd"]),
            }
        )
    else:  # app-only token
        claims.update({"oid": client_id, "sub": client_id, "roles": roles or [], "idtyp": "app"})
    if wids:
        claims["wids"] = wids
    return claims


def short_scope(scope: str) -> str:
    """How Entra writes a scope in ``scp``: without the resource URI
    ("https://api.partnercenter.microsoft.com/user_impersonation" -> "user_impersonation")."""
    return scope.rsplit("/", 1)[-1] if scope.startswith("https://") else scope


def scope_audience(scopes: list[str]) -> str:
    """Which resource a token is for, from its scopes (``.default`` or plain Graph scopes)."""
    for s in scopes:
        if s.startswith(PARTNER_CENTER_AUDIENCE):
            return PARTNER_CENTER_AUDIENCE
    return GRAPH_AUDIENCE
