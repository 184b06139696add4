"""One refresh with MSAL for Python, as a whole process (scripts/bench-token.sh).

Builds a PublicClientApplication against the simulator's HTTPS authority and
calls acquire_token_by_refresh_token once: what a Python tool does when it
needs a fresh access token. MSAL fetches the authority's OpenID configuration
first (instance_discovery=False: the simulator is not a known Microsoft host,
as in tests/peers/msal_check.py), then posts the refresh grant.

Usage: python msal_refresh.py AUTHORITY CLIENT_ID SCOPE...
Env:   BENCH_RT            the refresh token to redeem
       REQUESTS_CA_BUNDLE  the simulator's CA (its --ca-out file)
Exits 0 when an access token came back, 1 otherwise (with the error on stderr).
"""

import os
import sys

import msal


def main():
    authority, client_id, *scopes = sys.argv[1:]
    app = msal.PublicClientApplication(client_id, authority=authority, instance_discovery=False)
    result = app.acquire_token_by_refresh_token(os.environ["BENCH_RT"], scopes)
    if "access_token" not in result:
        print("msal: %s: %s" % (result.get("error"), result.get("error_description")), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
