"""Checks that Kubernetes' Python client accepts Reconnect as an exec plugin.

Run by scripts/ci/kube.sh with RECONNECT_HOME set to a profile whose account
(argument 1) is connected to the simulator, and RECONNECT_BIN naming the
binary. For each ExecCredential version the client may ask for (v1 and
v1beta1), it writes a kubeconfig whose user runs
`reconnect token ACCOUNT --format exec-credential`, loads it with
`kubernetes.config.load_kube_config`, and calls `GET /version` on a
stand-in API server that answers only the bearer token Reconnect prints for
the account. Prints "N passed, N failed" and exits non-zero on a failure.
"""

import json
import os
import subprocess
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kubernetes
import yaml

ACCOUNT = sys.argv[1]
BIN = os.environ["RECONNECT_BIN"]
VERSION = {
    "major": "1", "minor": "31", "gitVersion": "v1.31.0", "gitCommit": "0" * 40,
    "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22",
    "compiler": "gc", "platform": "linux/amd64",
}
seen = []


class ApiServer(BaseHTTPRequestHandler):
    """Answers /version to the one token Reconnect hands out, 401 otherwise."""

    expected = ""

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        seen.append(auth)
        ok = self.path.rstrip("/") == "/version" and auth == "Bearer " + ApiServer.expected
        body = json.dumps(VERSION if ok else {"kind": "Status", "code": 401}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def token():
    out = subprocess.run([BIN, "token", ACCOUNT], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def kubeconfig(path, server, api_version):
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": server}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "reconnect"}}],
        "users": [{"name": "reconnect", "user": {"exec": {
            "apiVersion": api_version, "command": BIN,
            "args": ["token", ACCOUNT, "--format", "exec-credential"],
            "interactiveMode": "Never", "provideClusterInfo": False,
        }}}],
    }
    with open(path, "w") as f:
        yaml.safe_dump(config, f)


def check(api_version, server, tmp):
    path = os.path.join(tmp, api_version.rsplit("/", 1)[-1] + ".kubeconfig")
    kubeconfig(path, server, api_version)
    cfg = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=path, client_configuration=cfg)
    expected = "Bearer " + ApiServer.expected
    api = kubernetes.client.VersionApi(kubernetes.client.ApiClient(cfg))
    info = api.get_code()
    assert info.git_version == "v1.31.0", info
    assert seen and seen[-1] == expected, "the API server got the bearer token"


def main():
    import tempfile

    ApiServer.expected = token()
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApiServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % server.server_address[1]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for version in ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]:
            try:
                check(version, url, tmp)
                print("pass", version)
                passed += 1
            except Exception:
                traceback.print_exc()
                print("FAIL", version)
                failed += 1
    server.shutdown()
    print("kubernetes client", kubernetes.__version__)
    print("kube: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
