"""pyoidc (the `oic` package) against Gatehouse: discovery, a statically registered
confidential client, the code flow with PKCE, the token request (pyoidc verifies the
ID token with the provider's JWKS) and the userinfo request with pyoidc's defaults
(POST, the access token in the form body: RFC 6750 §2.2).

Run by interop/run, which starts Gatehouse and registers the client
(client_secret_basic, no consent page).
"""

from urllib.parse import urlsplit

from oic import rndstr
from oic.oic import Client
from oic.oic.message import AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

from browser import Browser
from report import Reporter, env, expect

report = Reporter("pyoidc", "oic")
issuer = env("INTEROP_ISSUER")
redirect_uri = env("PYOIDC_REDIRECT_URI")

with report.flow("code flow"):
    client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
    # Fetches the discovery document and the JWKS; checks the issuer.
    report.check("provider_config (discovery)", lambda: client.provider_config(issuer))
    # Registered out of band (gatehouse client add), so the registration is static.
    client.store_registration_info(RegistrationResponse(
        client_id=env("PYOIDC_CLIENT_ID"),
        client_secret=env("PYOIDC_SECRET"),
        redirect_uris=[redirect_uri],
        token_endpoint_auth_method="client_secret_basic",
    ))
    client.redirect_uris = [redirect_uri]

    state, nonce = rndstr(32), rndstr(32)

    def authorize():
        # Gatehouse requires PKCE (S256) from every client. pyoidc makes the
        # challenge but does not keep the verifier (do_authorization_request drops
        # it), so build the request here and keep the verifier ourselves.
        pkce_args, verifier = client.add_code_challenge()
        request = client.construct_AuthorizationRequest(request_args={
            "response_type": "code",
            "scope": ["openid", "profile", "email"],
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": nonce,
            **pkce_args,
        })
        url = request.request(client.authorization_endpoint)
        callback = Browser().sign_in(url, redirect_uri, env("INTEROP_USERNAME"), env("INTEROP_PASSWORD"))
        response = client.parse_response(AuthorizationResponse, info=urlsplit(callback).query,
                                         sformat="urlencoded")
        expect(response["state"] == state, "the state sent")
        return response, verifier

    response, verifier = report.check("authorization (PKCE S256)", authorize)

    def token():
        tokens = client.do_access_token_request(
            state=state,
            request_args={"code": response["code"], "code_verifier": verifier,
                          "redirect_uri": redirect_uri},
            authn_method="client_secret_basic",
        )
        if "error" in tokens:
            raise RuntimeError(tokens.to_json())
        id_token = tokens["id_token"]  # verified by pyoidc (signature, iss, aud, exp)
        expect(id_token["nonce"] == nonce, "the nonce sent")
        return tokens

    tokens = report.check("do_access_token_request (ID token verified)", token)

    def userinfo():
        info = client.do_user_info_request(state=state)  # defaults: POST, token in body
        if "error" in info:
            raise RuntimeError(info.to_json())
        expect(info["sub"] == tokens["id_token"]["sub"], "the sub of the ID token")
        expect(info.get("email") == env("INTEROP_EMAIL"), f"email {env('INTEROP_EMAIL')}")

    report.check("do_user_info_request (defaults: POST, access_token in the body)", userinfo)

report.finish()
