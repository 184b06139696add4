#!/bin/bash
# Writes a database with the version-1 schema through the version-1 binary
# (reconnect 0.1.0 at commit 8f86c75), in a session with a keyring
# (scripts/with-session.sh). It made schema-v1.db, which store_migrate.rs opens.
set -uo pipefail
WORK=$(mktemp -d)
R=${RECONNECT_V1:?the reconnect binary built at 8f86c75}
export RECONNECT_HOME=$WORK/home
rm -rf "$RECONNECT_HOME"; mkdir -p "$RECONNECT_HOME"
$R sim serve --auto-approve alice@contoso.test > $WORK/sim.json &
SIM=$!
sleep 1
URL=$(python3 -c "import json;print(json.load(open('$WORK/sim.json'))['http_url'])")
export RECONNECT_SIM_URL=$URL
CID=11111111-2222-3333-4444-555555555555
$R add healthy --authority "$URL" --client-id $CID --tenant contoso.test
$R add revoked --authority "$URL" --client-id $CID --tenant contoso.test
$R add retrying --authority "$URL" --client-id $CID --tenant contoso.test
$R add never --authority "$URL" --client-id $CID
$R add unreachable --authority "$URL" --client-id $CID --tenant contoso.test
$R add malformed --authority "$URL" --client-id $CID --tenant contoso.test
cat > $WORK/curl-browser.sh <<'B'
#!/bin/sh
exec curl -s -L -o /dev/null "$1"
B
chmod +x $WORK/curl-browser.sh
$R signin healthy --browser $WORK/curl-browser.sh --timeout 20
for a in revoked retrying unreachable; do $R signin $a --browser $WORK/curl-browser.sh --timeout 20; done
$R sim fault 50173 --count 1
$R refresh revoked
$R sim fault 90033 --count 1
$R refresh retrying
echo "fake-token-from-elsewhere" | $R import malformed --refresh-token-stdin
$R refresh malformed
# The last account's simulator goes away: a failure without a code.
kill $SIM; wait $SIM 2>/dev/null
$R refresh unreachable --force
$R status --json
$R events
echo "database: $RECONNECT_HOME/reconnect.db"
