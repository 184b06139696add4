"""Issue 14's benchmark table, side by side in one run (driven by scripts/bench-token.sh).

Whole processes, timed from this driver (fork/exec to exit), against a running
`reconnect sim serve --tls` on loopback and the real gnome-keyring of the
session the shell script set up. For each row: one untimed warm-up of each
side, then RUNS rounds; each round runs Reconnect then the reference, the next
round the reference first, so drift in the machine's load hits both sides.
Reports min / median / p90 per side, the ratio of medians, and whether the
issue's goal is met. Figures only: a goal that is missed is reported, not
failed; the driver exits non-zero only when something could not be measured
(a command failed, or a run did not do what the row claims).

Every timed run is checked against the simulator's request log (cleared
before the run, read after it): a cached-token run must send no token
request, a "one refresh needed" run exactly one refresh grant.

The simulator is strict (it refuses apps nobody registered), so the shell
script starts it with `--app bench-client` (CLIENT below); the driver checks
that registration before it measures anything.

Stdlib only (runs on the system python3); MSAL runs in its own venv.
"""

import argparse
import datetime
import json
import math
import os
import platform
import secrets
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

CLIENT = "bench-client"
SCOPE = "openid profile offline_access User.Read"
UPN = "alice@contoso.test"
TENANT = "common"
# Each refresh run moves the engine's clock this much further ahead (test hook
# RECONNECT_TEST_CLOCK_OFFSET, crates/engine/README.md "Test hooks"): past the
# one-hour access token's expiry, so exactly one refresh is needed.
CLOCK_STEP = 7200
HERE = os.path.dirname(os.path.abspath(__file__))


class Unmeasurable(Exception):
    """Something could not be measured: the run stops with this message."""


def say(msg):
    print("bench-token: " + msg, file=sys.stderr, flush=True)


class Sim:
    """The simulator's control API (over its http URL) and its request log."""

    def __init__(self, line, ca):
        self.http = line["http_url"]
        self.https = line.get("https_url")
        self.ca = ca

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.http + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def grant(self):
        """A freshly minted refresh token for CLIENT / SCOPE."""
        return self.control("POST", "/_sim/grants",
                            {"upn": UPN, "client_id": CLIENT, "scope": SCOPE})["refresh_token"]

    def check_app(self):
        """Fails unless CLIENT is registered (a strict simulator refuses it otherwise)."""
        try:
            self.control("GET", "/_sim/apps/" + CLIENT)
        except urllib.error.HTTPError as err:
            if err.code != 404:
                raise
            raise Unmeasurable("the simulator has no app %s: start it with `reconnect sim serve --app %s` "
                               "or register it with `reconnect sim app add %s`" % (CLIENT, CLIENT, CLIENT))

    def clear_log(self):
        self.control("DELETE", "/_sim/log")

    def log(self):
        return self.control("GET", "/_sim/log")["requests"]


def stats(xs):
    xs = sorted(xs)
    p90 = xs[max(0, math.ceil(0.9 * len(xs)) - 1)]  # nearest rank
    return {"n": len(xs), "min": xs[0], "median": statistics.median(xs), "p90": p90}


class Case:
    """One side of a row: a command, timed as a whole process, checked after each run."""

    def __init__(self, bench, label, prepare, expect_refreshes=None):
        self.bench = bench
        self.label = label
        self.prepare = prepare          # () -> (argv, extra env)
        self.expect = expect_refreshes  # refresh grants each run must send (None: not checked)
        self.samples = []
        self.refreshes = []             # refresh grants per timed run
        self.requests = []              # all logged simulator requests per timed run
        self.err = open(os.path.join(bench.work, "stderr-%d" % id(self)), "w+b")

    def run(self, timed=True):
        argv, extra = self.prepare()
        env = dict(self.bench.env, **extra)
        self.bench.sim.clear_log()
        self.err.seek(0)
        self.err.truncate()
        t0 = time.perf_counter_ns()
        rc = subprocess.call(argv, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=self.err)
        t1 = time.perf_counter_ns()
        if rc != 0:
            self.err.seek(0)
            raise Unmeasurable("%s: `%s` exited with %d: %s" % (
                self.label, " ".join(argv[:3]), rc, self.err.read().decode(errors="replace").strip()[-800:]))
        log = self.bench.sim.log()
        refreshes = sum(1 for e in log if e.get("endpoint") == "token"
                        and e.get("grant_type") == "refresh_token")
        if self.expect is not None and refreshes != self.expect:
            raise Unmeasurable("%s: the simulator saw %d refresh grants in one run, expected %d "
                               "(was the CLI built with --features test-hooks?)"
                               % (self.label, refreshes, self.expect))
        if timed:
            self.samples.append((t1 - t0) / 1e6)
            self.refreshes.append(refreshes)
            self.requests.append(len(log))

    def stats(self):
        return stats(self.samples)


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin
        self.work = args.work
        self.runs = args.runs
        self.sim = Sim(json.loads(args.sim_line), args.ca)
        if not self.sim.https:
            raise Unmeasurable("the simulator runs without --tls: no https_url")
        self.sim.check_app()
        self.home = os.path.join(self.work, "home")
        self.env = dict(os.environ, RECONNECT_HOME=self.home)
        self.env.pop("RECONNECT_TEST_CLOCK_OFFSET", None)
        self.clock_offset = 0
        self.notes = []

    # --- helpers -------------------------------------------------------------

    def cli(self, *argv, home=None, stdin=None, extra=None, check=True):
        env = dict(self.env, **(extra or {}))
        if home:
            env["RECONNECT_HOME"] = home
        p = subprocess.run([self.bin, *argv], env=env, input=stdin, capture_output=True)
        if check and p.returncode != 0:
            raise Unmeasurable("`reconnect %s` exited with %d: %s" % (
                " ".join(argv), p.returncode, p.stderr.decode(errors="replace").strip()))
        return p

    def add_account(self, name, authority, home=None):
        self.cli("add", name, "--authority", authority, "--tenant", TENANT,
                 "--client-id", CLIENT, "--scopes", SCOPE, home=home)
        self.cli("import", name, "--refresh-token-stdin", home=home,
                 stdin=(self.sim.grant() + "\n").encode())

    def next_offset(self):
        self.clock_offset += CLOCK_STEP
        return {"RECONNECT_TEST_CLOCK_OFFSET": str(self.clock_offset)}

    def pair(self, ours, ref):
        ours.run(timed=False)
        ref.run(timed=False)
        for r in range(self.runs):
            for case in ((ours, ref) if r % 2 == 0 else (ref, ours)):
                case.run()
        for case in (ours, ref):
            s = case.stats()
            say("  %-58s min %8.2f  median %8.2f  p90 %8.2f ms" % (case.label, s["min"], s["median"], s["p90"]))

    # --- rows ----------------------------------------------------------------

    def setup(self):
        http, https = self.sim.http, self.sim.https
        # Row 1: an account with a valid cached access token.
        self.add_account("cached", http)
        self.cli("token", "cached")
        # Row 2: an account that needs one refresh on every run.
        self.add_account("refresh", http)
        # Row 3: the same refresh, over https if the CLI can trust the
        # simulator's CA. It has no setting for an extra CA today; probe the
        # conventional SSL_CERT_FILE so the row switches by itself if it learns.
        self.add_account("refresh-tls", https)
        ca_env = {"SSL_CERT_FILE": self.sim.ca}
        probe = self.cli("token", "refresh-tls", extra=ca_env, check=False)
        if probe.returncode == 0:
            self.tls_env = ca_env
            self.tls_account = "refresh-tls"
            self.notes.append("Row 3: Reconnect talked to the simulator over https, trusting its CA via SSL_CERT_FILE.")
        else:
            self.cli("remove", "refresh-tls")
            self.tls_env = {}
            self.tls_account = None
            self.notes.append(
                "Row 3: the CLI cannot trust a custom CA (no setting for it; its HTTP client trusts only "
                "its built-in web roots, SSL_CERT_FILE is ignored), so Reconnect's side of this row "
                "talks to the simulator over **http** while MSAL uses https: MSAL pays a TLS handshake "
                "that Reconnect does not (see the curl https/http note below for its size).")
        # The 2 KB secret for secret-tool, in the same keyring.
        self.secret = secrets.token_urlsafe(1536)[:2048]
        p = subprocess.run(["secret-tool", "store", "--label=reconnect bench 2 KB", "reconnect-bench", "2k"],
                           input=self.secret.encode(), capture_output=True, env=self.env)
        if p.returncode != 0:
            raise Unmeasurable("secret-tool store failed: " + p.stderr.decode(errors="replace"))
        out = subprocess.run(["secret-tool", "lookup", "reconnect-bench", "2k"],
                             capture_output=True, env=self.env).stdout.decode()
        if out.rstrip("\n") != self.secret:
            raise Unmeasurable("secret-tool lookup did not return the 2 KB secret it stored")

    def row_cached(self):
        say("row 1: reconnect token with a valid cached token vs secret-tool lookup (2 KB)")
        ours = Case(self, "reconnect token, valid cached token",
                    lambda: ([self.bin, "token", "cached"], {}), expect_refreshes=0)
        ref = Case(self, "secret-tool lookup of a 2 KB secret",
                   lambda: (["secret-tool", "lookup", "reconnect-bench", "2k"], {}))
        self.pair(ours, ref)
        return ours, ref

    def curl_case(self, label, base, tls):
        def prepare():
            rt = self.sim.grant()
            argv = ["curl", "-sf", "-o", "/dev/null", "-X", "POST",
                    "%s/%s/oauth2/v2.0/token" % (base, TENANT),
                    "--data-urlencode", "grant_type=refresh_token",
                    "--data-urlencode", "client_id=" + CLIENT,
                    "--data-urlencode", "refresh_token=" + rt,
                    "--data-urlencode", "scope=" + SCOPE,
                    "--data-urlencode", "client_info=1"]
            if tls:
                argv[1:1] = ["--cacert", self.sim.ca]
            return argv, {}
        return Case(self, label, prepare, expect_refreshes=1)

    def row_refresh(self):
        say("row 2: reconnect token with one refresh needed vs raw curl POST of a refresh grant")
        ours = Case(self, "reconnect token, one refresh needed",
                    lambda: ([self.bin, "token", "refresh"], self.next_offset()), expect_refreshes=1)
        ref = self.curl_case("curl POST of the same refresh grant (http)", self.sim.http, tls=False)
        self.pair(ours, ref)
        return ours, ref

    def row_msal(self):
        say("row 3: the same refresh vs MSAL for Python acquire_token_by_refresh_token (https)")
        account = self.tls_account or "refresh"
        scheme = "https" if self.tls_account else "http"
        ours = Case(self, "reconnect token, one refresh needed (%s)" % scheme,
                    lambda: ([self.bin, "token", account], dict(self.tls_env, **self.next_offset())),
                    expect_refreshes=1)
        script = os.path.join(HERE, "msal_refresh.py")
        authority = "%s/%s" % (self.sim.https, TENANT)

        def prepare():
            return ([self.args.msal_python, script, authority, CLIENT, "User.Read"],
                    {"BENCH_RT": self.sim.grant(), "REQUESTS_CA_BUNDLE": self.sim.ca})
        ref = Case(self, "MSAL for Python, whole process (https)", prepare, expect_refreshes=1)
        self.pair(ours, ref)
        return ours, ref, scheme

    def status_home(self, count):
        """A data directory with `count` accounts: one real (added, imported,
        refreshed), the rest inserted directly into its SQLite tables as
        copies of it (accounts, token_facts, health: every column, whatever
        the migrations add). Copies have no keychain items; `status` does not
        read tokens, it only probes the keychain once."""
        home = os.path.join(self.work, "status-%d" % count)
        self.add_account("seed", self.sim.http, home=home)
        self.cli("token", "seed", home=home)
        db = sqlite3.connect(os.path.join(home, "reconnect.db"))
        try:
            def cols(table, skip):
                return [r[1] for r in db.execute("PRAGMA table_info(%s)" % table) if r[1] not in skip]
            seed_id = db.execute("SELECT id FROM accounts WHERE name = 'seed'").fetchone()[0]
            acols = ", ".join(cols("accounts", ("id", "name")))
            with db:
                db.executemany(
                    "INSERT INTO accounts (name, %s) SELECT ?, %s FROM accounts WHERE id = ?" % (acols, acols),
                    (("bench-%05d" % i, seed_id) for i in range(1, count)))
                for table in ("token_facts", "health"):
                    tcols = cols(table, ("account_id",))
                    db.execute(
                        "INSERT INTO %s (account_id, %s) SELECT a.id, %s FROM accounts a JOIN %s t "
                        "ON t.account_id = ? WHERE a.id <> ?" % (
                            table, ", ".join(tcols), ", ".join("t." + c for c in tcols), table),
                        (seed_id, seed_id))
            n = db.execute("SELECT count(*) FROM accounts").fetchone()[0]
        finally:
            db.close()
        out = json.loads(self.cli("status", "--json", home=home).stdout)
        if n != count or len(out.get("accounts", [])) != count:
            raise Unmeasurable("status over %d accounts listed %d (database: %d)"
                               % (count, len(out.get("accounts", [])), n))
        by_state = ", ".join("%s %d" % kv for kv in sorted(out.get("by_state", {}).items()))
        return home, by_state

    def row_status(self, count):
        say("row: reconnect status --json, %d accounts" % count)
        home, by_state = self.status_home(count)
        ours = Case(self, "reconnect status --json, %d accounts" % count,
                    lambda: ([self.bin, "status", "--json"], {"RECONNECT_HOME": home}))
        ours.run(timed=False)
        for _ in range(self.runs):
            ours.run()
        s = ours.stats()
        say("  %-58s min %8.2f  median %8.2f  p90 %8.2f ms" % (ours.label, s["min"], s["median"], s["p90"]))
        return ours, by_state

    def extras(self):
        """Context for reading the table: TLS cost for curl, the spawn floor."""
        say("context: curl over https vs http, and the cost of starting any process")
        https = self.curl_case("curl POST of a refresh grant (https)", self.sim.https, tls=True)
        http = self.curl_case("curl POST of a refresh grant (http)", self.sim.http, tls=False)
        self.pair(https, http)
        imp = Case(self, "python -c 'import msal' (the venv's interpreter)",
                   lambda: ([self.args.msal_python, "-c", "import msal"], {}))
        imp.run(timed=False)
        for _ in range(self.runs):
            imp.run()
        s = imp.stats()
        say("  %-58s min %8.2f  median %8.2f  p90 %8.2f ms" % (imp.label, s["min"], s["median"], s["p90"]))
        self.msal_import = imp
        self.phases = self.refresh_phases()
        true = Case(self, "/bin/true (process start from this driver)", lambda: (["true"], {}))
        true.run(timed=False)
        for _ in range(self.runs):
            true.run()
        s = true.stats()
        say("  %-58s min %8.2f  median %8.2f  p90 %8.2f ms" % (true.label, s["min"], s["median"], s["p90"]))
        return https, http, true


    PHASES = ("locked", "response", "vault_written", "metadata_written")

    def refresh_phases(self):
        """Where a refresh's time goes: the engine's test-hook pause points
        with a pause of 0 ms print a line on stderr as the refresh passes
        them; the driver notes when each line arrives. Medians over RUNS."""
        spans = {}
        for i in range(self.runs + 1):
            env = dict(self.env, RECONNECT_TEST_PAUSE_AT=",".join(self.PHASES), RECONNECT_TEST_PAUSE_MS="0",
                       **self.next_offset())
            marks = []
            t0 = time.perf_counter_ns()
            p = subprocess.Popen([self.bin, "token", "refresh"], env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for raw in p.stderr:
                line = raw.decode(errors="replace").strip()
                if line.startswith("reconnect-test-paused "):
                    marks.append((line.split()[1], time.perf_counter_ns()))
            rc = p.wait()
            marks.append(("exit", time.perf_counter_ns()))
            if rc != 0 or [m for m, _ in marks] != [*self.PHASES, "exit"]:
                say("refresh phases: unexpected run (exit %d, marks %s); breakdown skipped" % (rc, [m for m, _ in marks]))
                return None
            if i == 0:
                continue  # warm-up
            prev, prev_t = "start", t0
            for name, t in marks:
                spans.setdefault("%s → %s" % (prev, name), []).append((t - prev_t) / 1e6)
                prev, prev_t = name, t
        return [(k, statistics.median(v)) for k, v in spans.items()]


def cell(s):
    return "%s ms (min %s, p90 %s)" % (fmt(s["median"]), fmt(s["min"]), fmt(s["p90"]))


def fmt(ms):
    return "%.0f" % ms if ms >= 100 else "%.1f" % ms


def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d cores, %s" % (os.cpu_count() or 0, model)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def busiest():
    """The processes using the most CPU (ps's %CPU: over each one's lifetime,
    so short-lived compilers show their current use), other than this run's
    own: everything under the session's dbus-run-session (the keyring, the
    simulator, this driver) is left out."""
    try:
        out = subprocess.run(["ps", "-eo", "pid,ppid,pcpu,comm", "--no-headers"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    procs = {}
    for line in out.splitlines():
        pid, ppid, pcpu, comm = line.split(None, 3)
        procs[int(pid)] = (int(ppid), float(pcpu), comm)
    root = os.getppid()
    pid = os.getpid()
    while pid in procs and pid > 1:
        if procs[pid][2].startswith("dbus-run-sessio"):  # comm is cut at 15 characters
            root = pid
            break
        pid = procs[pid][0]

    def ours(pid):
        while pid in procs and pid > 1:
            if pid == root:
                return True
            pid = procs[pid][0]
        return False
    busy = sorted((v for k, v in procs.items() if v[1] >= 5 and not ours(k)), key=lambda v: -v[1])
    return ", ".join("%s %.0f%%" % (comm, pcpu) for _, pcpu, comm in busy[:4]) or "none above 5% CPU"


def source_tree():
    """The commit measured, and whether the tree had uncommitted changes
    (read-only git; --no-optional-locks so the index is not even refreshed)."""
    try:
        git = ["git", "--no-optional-locks", "-C", os.path.dirname(os.path.dirname(HERE))]  # the repository root
        head = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no", "--", "src-tauri", "Cargo.toml", "Cargo.lock"], capture_output=True,
                               text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (head or "?") + (" with uncommitted changes to the Rust sources" if dirty else "")


def pressure():
    """The kernel's CPU pressure: share of the last 60 s some task waited for a CPU."""
    try:
        with open("/proc/pressure/cpu") as f:
            return f.readline().split()[2].split("=")[1] + "%"
    except (OSError, IndexError):
        return "?"


def per_run(counts):
    values = sorted(set(counts))
    return "%s in all %d runs" % (values[0], len(counts)) if len(values) == 1 else \
        "per run: " + ", ".join(str(c) for c in counts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--sim-line", required=True, help="the first line `reconnect sim serve` printed")
    ap.add_argument("--ca", required=True, help="the simulator's CA (--ca-out)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--msal-python", required=True, help="python of the venv with msal")
    ap.add_argument("--accounts", default="1000,10000")
    args = ap.parse_args()

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before, busy_before, psi_before = loadavg(), busiest(), pressure()
    bench = Bench(args)
    try:
        bench.setup()
        cached = bench.row_cached()
        refresh = bench.row_refresh()
        msal_row = bench.row_msal()
        status_rows = [(int(c), *bench.row_status(int(c))) for c in args.accounts.split(",") if c]
        curl_https, curl_http, true = bench.extras()
    except Unmeasurable as err:
        say("could not measure: %s" % err)
        return 1
    load_after, busy_after, psi_after = loadavg(), busiest(), pressure()

    def ratio_row(ours, ref, goal_ratio):
        o, r = ours.stats()["median"], ref.stats()["median"]
        ratio = o / r
        return "%.2f×" % ratio, ratio <= goal_ratio

    rows = []
    ratio, met = ratio_row(*cached, 1.5)
    rows.append(("`reconnect token`, valid cached token", cell(cached[0].stats()),
                 "`secret-tool lookup` of a 2 KB secret: " + cell(cached[1].stats()),
                 ratio, "≤ 1.5×", met))
    ratio, met = ratio_row(*refresh, 3.0)
    rows.append(("`reconnect token`, one refresh needed", cell(refresh[0].stats()),
                 "raw `curl` POST of the same refresh grant: " + cell(refresh[1].stats()),
                 ratio, "≤ 3×", met))
    ours, ref, scheme = msal_row
    o, r = ours.stats()["median"], ref.stats()["median"]
    rows.append(("the same refresh", cell(ours.stats()) + ("" if scheme == "https" else ", over http"),
                 "MSAL for Python `acquire_token_by_refresh_token`, whole process (https): " + cell(ref.stats()),
                 "%.2f× (%.1f× faster)" % (o / r, r / o), "Reconnect ≥ 5× faster", r / o >= 5))
    for count, case, _ in status_rows:
        goal = 30 if count <= 1000 else 200 if count <= 10000 else None
        m = case.stats()["median"]
        rows.append(("`reconnect status --json`, {:,} accounts".format(count), cell(case.stats()), "—", "—",
                     "≤ %d ms" % goal if goal else "—", (m <= goal) if goal else None))

    print()
    print("| what | Reconnect | reference | ratio | goal |")
    print("|---|---|---|---|---|")
    for what, us, reference, ratio, goal, met in rows:
        verdict = "" if met is None else (": met" if met else ": **not met**")
        print("| %s | %s | %s | %s | %s%s |" % (what, us, reference, ratio, goal, verdict))
    print()
    print("Whole processes, release build (`--features test-hooks`), real gnome-keyring (private session), "
          "simulator on loopback. Medians of %d alternating runs (ours first on even rounds, the reference "
          "first on odd ones) after one warm-up each; ratio = Reconnect's median ÷ the reference's; goals "
          "judged on medians." % args.runs)
    print("Machine: %s. Date: %s. Load average (1/5/15 min) before → after: %s → %s."
          % (machine(), started.strftime("%Y-%m-%d %H:%M UTC"), load_before, load_after))
    print("Source: %s." % source_tree())
    print("Other load: CPU pressure (some, avg60) %s → %s; busiest other processes at the start: %s; at the end: %s."
          % (psi_before, psi_after, busy_before, busy_after))
    print()
    print("Checks and context:")
    print("- Refresh grants the simulator saw per timed run: row 1 Reconnect %s; row 2 Reconnect %s, curl %s; "
          "row 3 Reconnect %s, MSAL %s (all simulator requests per MSAL run, OpenID configuration included: %s)."
          % (per_run(cached[0].refreshes), per_run(refresh[0].refreshes), per_run(refresh[1].refreshes),
             per_run(ours.refreshes), per_run(ref.refreshes), per_run(ref.requests)))
    for note in bench.notes:
        print("- " + note)
    h, p = curl_https.stats()["median"], curl_http.stats()["median"]
    print("- curl POST of a refresh grant over https (trusting the simulator's CA) vs http: %s vs %s ms median "
          "(TLS adds %s ms to a one-request process)." % (fmt(h), fmt(p), fmt(h - p)))
    print("- Of MSAL's whole process, starting Python and `import msal` alone take %s ms (median)."
          % fmt(bench.msal_import.stats()["median"]))
    print("- Starting a process from this driver costs %s ms (`/bin/true`, median): it is in every figure "
          "above, on both sides." % fmt(true.stats()["median"]))
    if bench.phases:
        print("- Where `reconnect token`'s refresh spends its time (engine test-hook points, medians of %d "
              "more runs): %s ms. `locked` comes after start-up and opening the database; the keychain read "
              "and the HTTP round trip fall between `locked` and `response`; `vault_written` is the keychain "
              "write, `metadata_written` the SQLite facts; the rest is health/event writes and exit. Printing at "
              "each point and reading the pipe add their own time, so the spans add up to more than a plain run."
              % (args.runs, "; ".join("%s %s" % (k, fmt(v)) for k, v in bench.phases)))
    for count, case, by_state in status_rows:
        print("- Status over {:,} accounts ({}): one added, imported and refreshed by the CLI, the rest inserted "
              "directly into reconnect.db as copies of it (no keychain items of their own).".format(count, by_state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
