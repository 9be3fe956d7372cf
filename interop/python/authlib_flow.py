"""authlib against Gatehouse: OAuth2Session (requests) with PKCE, the code exchange,
the ID token verified with authlib.jose against the JWKS, refresh and userinfo.

Run by interop/run, which starts Gatehouse and registers the client (confidential,
client_secret_basic, asked for consent).
"""

import secrets
import warnings
from urllib.parse import parse_qs, urlsplit

import requests

from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # authlib 1.x says authlib.jose is deprecated in favour of joserfc (which it
    # depends on), to be kept until authlib 2.0; it is still what its docs show.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, jwt
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from browser import Browser
from report import Reporter, env, expect

report = Reporter("authlib", "authlib")
issuer = env("INTEROP_ISSUER")
client_id = env("AUTHLIB_CLIENT_ID")
redirect_uri = env("AUTHLIB_REDIRECT_URI")


def discover():
    r = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    r.raise_for_status()
    meta = r.json()
    expect(meta["issuer"] == issuer, f"issuer {issuer}, got {meta['issuer']}")
    return meta


def verify_id_token(id_token, jwks_uri, nonce):
    """Signature from the JWKS (by kid), then iss, aud, exp and nonce."""
    keys = JsonWebKey.import_key_set(requests.get(jwks_uri, timeout=10).json())
    claims = jwt.decode(id_token, keys, claims_options={
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    })
    claims.validate(leeway=5)
    return claims


with report.flow("code flow"):
    meta = report.check("discovery", discover)
    oauth = OAuth2Session(
        client_id, env("AUTHLIB_SECRET"),
        scope="openid profile email",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",  # Gatehouse requires PKCE S256
        token_endpoint_auth_method="client_secret_basic",
    )

    code_verifier = generate_token(64)
    nonce = secrets.token_urlsafe(16)

    def authorize():
        # authlib derives the S256 code_challenge from the verifier.
        url, state = oauth.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce)
        callback = Browser().sign_in(url, redirect_uri, env("INTEROP_USERNAME"), env("INTEROP_PASSWORD"))
        return callback, state

    callback, state = report.check("authorization (PKCE S256) + consent", authorize)

    def authorization_response_iss():
        # RFC 9207: authlib does not check `iss` itself, so check it here.
        iss = parse_qs(urlsplit(callback).query).get("iss", [None])[0]
        expect(iss == issuer, f"iss={issuer} in the authorization response, got {iss}")

    report.check("authorization response iss (RFC 9207)", authorization_response_iss)

    token = report.check("code exchange (fetch_token, client_secret_basic)", lambda: oauth.fetch_token(
        meta["token_endpoint"], authorization_response=callback, state=state,
        code_verifier=code_verifier))

    claims = report.check("ID token verified with authlib.jose (JWKS; iss, aud, exp, nonce)",
                          lambda: verify_id_token(token["id_token"], meta["jwks_uri"], nonce))

    def refresh():
        old = dict(token)
        new = oauth.refresh_token(meta["token_endpoint"], refresh_token=old["refresh_token"])
        expect(new["access_token"] != old["access_token"], "a new access token")
        expect(new.get("refresh_token") not in (None, old["refresh_token"]), "a rotated refresh token")
        return new

    report.check("refresh", refresh)

    def userinfo():
        # The session sends its (refreshed) access token as a Bearer header.
        r = oauth.get(meta["userinfo_endpoint"], timeout=10)
        r.raise_for_status()
        info = r.json()
        expect(info["sub"] == claims["sub"], f"sub {claims['sub']}, got {info['sub']}")
        expect(info.get("email") == env("INTEROP_EMAIL"), f"email {env('INTEROP_EMAIL')}, got {info.get('email')}")

    report.check("userinfo", userinfo)

report.finish()
