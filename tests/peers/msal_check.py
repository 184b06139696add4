"""Checks that Microsoft's MSAL for Python accepts the Reconnect simulator.

Run by scripts/ci/msal.sh against `reconnect sim serve --tls --auto-approve
alice@contoso.test`. Argument: the JSON line the server printed first.
REQUESTS_CA_BUNDLE must point at the simulator's CA (the script sets it).
The simulator is strict, so the script registers the two apps first and
names them here: MSAL_CLIENT_ID (a desktop app, redirect URI
http://localhost/callback) and MSAL_CUSTOM_KEY_CLIENT_ID (the same with
`--custom-signing-key`).

Checks: discovery; an authorization-code flow (PKCE, state, nonce) with
auto-approve; a refresh; sign-in and refresh through the multi-tenant
/organizations authority, whose id_tokens must name Alice's own tenant
(contoso's, not the consumers tenant) and its issuer; an app with a custom
signing key, whose id_tokens verify (PyJWT) only against the keys published
at `jwks_uri?appid=`; that an app nobody registered is refused (700016); the
exact error fields for 700082 (idle expiry) and for 50076 (MFA required,
with a claims challenge), and that the claims challenge carried into a new
sign-in clears it. Prints "N passed, N failed" and exits non-zero on any
failure.

MSAL (1.38 and later) no longer validates id_tokens itself, so the checks do
what a multi-tenant validator does: the /organizations discovery document
publishes the issuer `{base}/{tenantid}/v2.0`, and a token's `iss` must be
that template with the token's own `tid`.
"""

import hashlib
import json
import os
import sys
import traceback
import urllib.parse
import warnings

import jwt
import msal
import requests

CLIENT_ID = os.environ["MSAL_CLIENT_ID"]
CUSTOM_KEY_CLIENT_ID = os.environ["MSAL_CUSTOM_KEY_CLIENT_ID"]
CONSUMERS_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
REDIRECT_URI = "http://localhost:8765/callback"
SCOPES = ["https://graph.microsoft.com/User.Read"]
ALICE = "alice@contoso.test"
ERROR_FIELDS = ["error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"]

results = []


def check(name):
    def wrap(fn):
        def run(*args):
            try:
                fn(*args)
                results.append((name, None))
                print("ok   " + name)
            except Exception as exc:  # report every failure, keep going
                results.append((name, exc))
                print("FAIL " + name + ": " + repr(exc))
                traceback.print_exc()
        return run
    return wrap


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


class Sim:
    def __init__(self, line):
        self.https = line["https_url"]
        expect(self.https and self.https.startswith("https://"), "the simulator must run with --tls")
        self.authority = self.https + "/organizations"

    def control(self, method, path, body=None):
        response = requests.request(method, self.https + path, json=body, timeout=30)
        expect(response.status_code < 300, "control %s %s -> %s %s" % (method, path, response.status_code, response.text))
        return response.json() if response.text else None

    def app(self, client_id=CLIENT_ID):
        # instance_discovery=False: the simulator is not a known Microsoft host.
        return msal.PublicClientApplication(client_id, authority=self.authority, instance_discovery=False)

    def discovery(self, tenant):
        url = "%s/%s/v2.0/.well-known/openid-configuration" % (self.https, tenant)
        response = requests.get(url, timeout=30)
        expect(response.status_code == 200, "discovery of %s: %s %s" % (tenant, response.status_code, response.text))
        return response.json()

    def contoso(self):
        """Contoso's tenant id and issuer, from its own discovery document."""
        issuer = self.discovery("contoso.test")["issuer"]
        tid = issuer[len(self.https) + 1:].split("/")[0]
        expect(issuer == "%s/%s/v2.0" % (self.https, tid), "contoso issuer %s" % issuer)
        return tid, issuer

    def sign_in(self, app, **kwargs):
        flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI, **kwargs)
        expect("auth_uri" in flow, "no auth_uri: %r" % flow)
        # Auto-approve: /authorize redirects at once, no page.
        response = requests.get(flow["auth_uri"], allow_redirects=False, timeout=30)
        expect(response.status_code == 302, "authorize answered %s: %s" % (response.status_code, response.text[:300]))
        location = response.headers["Location"]
        expect(location.startswith(REDIRECT_URI), "redirected to %s" % location)
        auth_response = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))
        return flow, auth_response


def error_fields(result, code):
    for field in ERROR_FIELDS:
        expect(field in result, "missing %s in %r" % (field, result))
    expect(result["error"] == "invalid_grant", "error %r" % result["error"])
    expect(result["error_codes"] == [code], "error_codes %r" % result["error_codes"])
    lines = result["error_description"].split("\r\n")
    expect(len(lines) == 4, "description lines %r" % lines)
    expect(lines[0].startswith("AADSTS%d: " % code), lines[0])
    expect(lines[1] == "Trace ID: " + result["trace_id"], lines[1])
    expect(lines[2] == "Correlation ID: " + result["correlation_id"], lines[2])
    expect(lines[3] == "Timestamp: " + result["timestamp"], lines[3])
    expect(len(result["timestamp"]) == 20 and result["timestamp"].endswith("Z"), result["timestamp"])
    expect(result["error_uri"].endswith("code=%d" % code), result["error_uri"])


def tenant_claims(claims, template, tid, issuer, client_id):
    """The claims of an id_token a multi-tenant authority gave for Alice."""
    expect(claims["tid"] == tid, "tid %r, not contoso's %s" % (claims.get("tid"), tid))
    expect(claims["tid"] != CONSUMERS_TENANT_ID, "a work account in the consumers tenant")
    expect(claims["iss"] == template.replace("{tenantid}", claims["tid"]),
           "iss %s does not fit the issuer template %s" % (claims["iss"], template))
    expect(claims["iss"] == issuer, "iss %s, contoso's issuer is %s" % (claims["iss"], issuer))
    expect(claims["aud"] == client_id, "aud %r" % claims["aud"])


def verify(id_token, keys, client_id, issuer):
    """Verifies an id_token's signature and claims against one JWKS; returns its claims."""
    kid = jwt.get_unverified_header(id_token).get("kid")
    matching = [k for k in keys if k.get("kid") == kid]
    expect(len(matching) == 1, "kid %r is not in the set %r" % (kid, [k.get("kid") for k in keys]))
    key = jwt.PyJWK(matching[0])
    return jwt.decode(id_token, key=key.key, algorithms=[matching[0].get("alg", "RS256")], audience=client_id,
                      issuer=issuer, options={"require": ["exp", "iat", "iss", "aud", "sub"]})


def signature_fails(id_token, jwk):
    """Whether the id_token's signature does NOT verify under `jwk`."""
    try:
        jwt.decode(id_token, key=jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]],
                   options={"verify_aud": False, "verify_iss": False, "verify_exp": False})
    except jwt.InvalidSignatureError:
        return True
    return False


def main():
    # MSAL suggests form_post; the check uses the default query mode on purpose.
    warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
    sim = Sim(json.loads(sys.argv[1]))
    state = {}

    @check("discovery")
    def discovery():
        doc = requests.get(sim.authority + "/v2.0/.well-known/openid-configuration", timeout=30).json()
        for key in ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"]:
            expect(doc[key].startswith(sim.https), "%s = %s" % (key, doc[key]))
        keys = requests.get(doc["jwks_uri"], timeout=30).json()["keys"]
        expect(any(k["kty"] == "RSA" and k.get("alg") == "RS256" for k in keys), "no RS256 key")
        state["app"] = sim.app()  # MSAL runs its own discovery here

    @check("authorization code flow with auto-approve")
    def auth_code():
        app = state["app"]
        flow, auth_response = sim.sign_in(app)
        expect(auth_response.get("state") == flow["state"], "state not echoed")
        result = app.acquire_token_by_auth_code_flow(flow, auth_response)
        expect("access_token" in result, "no access token: %r" % result)
        expect(result["id_token_claims"]["preferred_username"] == ALICE, result["id_token_claims"])
        # MSAL sends the SHA-256 of its nonce and checks it came back; check the echo too.
        sent = hashlib.sha256(flow["nonce"].encode("ascii")).hexdigest()
        expect(result["id_token_claims"]["nonce"] == sent, "nonce not echoed")
        expect("refresh_token" in result, "no refresh token")
        accounts = app.get_accounts()
        expect([a["username"] for a in accounts] == [ALICE], "accounts %r" % accounts)
        state["refresh_token"] = result["refresh_token"]
        state["id_token"] = result["id_token"]

    @check("refresh")
    def refresh():
        app = state["app"]
        result = app.acquire_token_by_refresh_token(state["refresh_token"], SCOPES)
        expect("access_token" in result, "refresh failed: %r" % result)
        expect(result["refresh_token"] != state["refresh_token"], "refresh token rotated")
        state["rotated"] = result["refresh_token"]
        silent = app.acquire_token_silent(SCOPES, account=app.get_accounts()[0], force_refresh=True)
        expect(silent and "access_token" in silent, "silent refresh failed: %r" % silent)

    @check("/organizations: sign-in and refresh carry contoso's tenant, not the consumers one")
    def organizations():
        template = sim.discovery("organizations")["issuer"]
        expect(template == sim.https + "/{tenantid}/v2.0", "organizations issuer %s" % template)
        tid, issuer = sim.contoso()
        app = sim.app()  # a fresh app: MSAL runs the authority's discovery again
        flow, auth_response = sim.sign_in(app)
        result = app.acquire_token_by_auth_code_flow(flow, auth_response)
        expect("id_token_claims" in result, "sign-in failed: %r" % result)
        tenant_claims(result["id_token_claims"], template, tid, issuer, CLIENT_ID)
        account = app.get_accounts()[0]
        # MSAL's home account id is client_info's uid.utid: the user's own tenant.
        expect(account["home_account_id"].endswith("." + tid), account["home_account_id"])
        refreshed = app.acquire_token_silent(SCOPES, account=account, force_refresh=True)
        expect(refreshed and "id_token_claims" in refreshed, "refresh failed: %r" % refreshed)
        tenant_claims(refreshed["id_token_claims"], template, tid, issuer, CLIENT_ID)
        access = jwt.decode(refreshed["access_token"], options={"verify_signature": False})
        expect(access["tid"] == tid, "access token tid %r" % access.get("tid"))

    @check("custom signing key: id_tokens verify against jwks_uri?appid= only")
    def custom_key():
        jwks_uri = sim.discovery("organizations")["jwks_uri"]
        tid, issuer = sim.contoso()
        plain = requests.get(jwks_uri, timeout=30).json()["keys"]
        app_keys = requests.get(jwks_uri, params={"appid": CUSTOM_KEY_CLIENT_ID}, timeout=30).json()["keys"]
        app = sim.app(CUSTOM_KEY_CLIENT_ID)
        flow, auth_response = sim.sign_in(app)
        result = app.acquire_token_by_auth_code_flow(flow, auth_response)
        expect("id_token" in result, "MSAL got no tokens for the custom-key app: %r" % result)
        refreshed = app.acquire_token_silent(SCOPES, account=app.get_accounts()[0], force_refresh=True)
        expect(refreshed and "id_token" in refreshed, "refresh failed: %r" % refreshed)
        plain_kids = [k.get("kid") for k in plain]
        for id_token in [result["id_token"], refreshed["id_token"]]:
            kid = jwt.get_unverified_header(id_token)["kid"]
            expect(kid not in plain_kids, "the app's kid %s is in the plain set %r" % (kid, plain_kids))
            claims = verify(id_token, app_keys, CUSTOM_KEY_CLIENT_ID, issuer)
            expect(claims["tid"] == tid and claims["preferred_username"] == ALICE, claims)
            for jwk in plain:
                if jwk["kty"] == "RSA":
                    expect(signature_fails(id_token, jwk), "verified under the plain key %s" % jwk["kid"])
        # The other app's id_tokens are still signed with the published key.
        verify(state["id_token"], plain, CLIENT_ID, issuer)

    @check("an app nobody registered: 700016")
    def unregistered():
        result = sim.app("0f6b2d7e-1c4a-4e9b-8a53-7d2e9c1b4f60").acquire_token_by_refresh_token("not-a-token", SCOPES)
        expect(result.get("error_codes") == [700016], "answer %r" % result)

    @check("700082 after 91 idle days: exact error fields")
    def idle():
        sim.control("POST", "/_sim/clock", {"advance_seconds": 91 * 86400})
        result = state["app"].acquire_token_by_refresh_token(state["rotated"], SCOPES)
        error_fields(result, 700082)
        expect("was inactive for 90.00:00:00" in result["error_description"], result["error_description"])

    @check("50076 with a claims challenge: exact error fields")
    def mfa():
        minted = sim.control("POST", "/_sim/grants", {
            "upn": ALICE, "client_id": CLIENT_ID, "scope": "openid offline_access " + SCOPES[0]})
        sim.control("POST", "/_sim/users/%s/state" % ALICE, {"mfa_required": True})
        result = state["app"].acquire_token_by_refresh_token(minted["refresh_token"], SCOPES)
        error_fields(result, 50076)
        expect(result.get("suberror") == "basic_action", "suberror %r" % result.get("suberror"))
        claims = json.loads(result["claims"])
        expect(claims["access_token"]["capolids"]["essential"] is True, claims)
        state["claims"] = result["claims"]

    @check("claims challenge carried into a new sign-in clears 50076")
    def step_up():
        sim.control("DELETE", "/_sim/log")
        app = state["app"]
        flow, auth_response = sim.sign_in(app, claims_challenge=state["claims"])
        result = app.acquire_token_by_auth_code_flow(flow, auth_response)
        expect("access_token" in result, "sign-in failed: %r" % result)
        again = app.acquire_token_by_refresh_token(result["refresh_token"], SCOPES)
        expect("access_token" in again, "refresh after MFA failed: %r" % again)
        log = sim.control("GET", "/_sim/log")["requests"]
        authorize = [e for e in log if e["endpoint"] == "authorize"]
        expect(authorize and authorize[0]["claims_passed"] is True, "log: %r" % authorize)

    for step in [discovery, auth_code, refresh, organizations, custom_key, unregistered, idle, mfa, step_up]:
        step()

    failed = sum(1 for _, exc in results if exc is not None)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
