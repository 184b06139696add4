"""Checks that Microsoft's MSAL for Python accepts the Reconnect simulator.

Run by scripts/ci/msal.sh against `reconnect sim serve --tls --auto-approve
alice@contoso.test`. Argument: the JSON line the server printed first.
REQUESTS_CA_BUNDLE must point at the simulator's CA (the script sets it).

Checks: discovery; an authorization-code flow (PKCE, state, nonce) with
auto-approve; a refresh; the exact error fields for 700082 (idle expiry) and
for 50076 (MFA required, with a claims challenge), and that the claims
challenge carried into a new sign-in clears it. Prints "N passed, N failed"
and exits non-zero on any failure.
"""

import hashlib
import json
import sys
import traceback
import urllib.parse
import warnings

import msal
import requests

CLIENT_ID = "4b0db8c2-9f26-4417-8bde-3f0e3656f8e0"
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

    def app(self):
        # instance_discovery=False: the simulator is not a known Microsoft host.
        return msal.PublicClientApplication(CLIENT_ID, authority=self.authority, instance_discovery=False)

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

    @check("refresh")
    def refresh():
        app = state["app"]
        result = app.acquire_token_by_refresh_token(state["refresh_token"], SCOPES)
        expect("access_token" in result, "refresh failed: %r" % result)
        expect(result["refresh_token"] != state["refresh_token"], "refresh token rotated")
        state["rotated"] = result["refresh_token"]
        silent = app.acquire_token_silent(SCOPES, account=app.get_accounts()[0], force_refresh=True)
        expect(silent and "access_token" in silent, "silent refresh failed: %r" % silent)

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

    for step in [discovery, auth_code, refresh, idle, mfa, step_up]:
        step()

    failed = sum(1 for _, exc in results if exc is not None)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
