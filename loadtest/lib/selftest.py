#!/usr/bin/env python3
"""Tests the harness itself, without the gateway: bash loadtest/run.sh --selftest  (~6 min).

Unit checks of the pieces (signing vs openssl, process-title parsing, window counting, CPU deltas,
click Location rule), the wrk scripts against lib/mock/mock-gateway.js (node: implements the
contract and writes rows to Postgres before answering), the webhook receiver's lost/doubled
counting, and bench.py end to end with one mock as the gateway and another as the reference:
a normal run, rows lost (exit 3), clicks redirected without a clickId (exit 3), a request file too
small (exit 4), a target missed with ENFORCE_TARGETS=1 (exit 5), a wrong admin token (exit 1),
SIGTERM mid-run (exit 143, services stopped, request files removed).
Uses ports 18089/18090 (SELFTEST_PORT, SELFTEST_REF_PORT), databases gateway_selftest/lean_selftest,
Redis dbs 14/15, output in loadtest/out/selftest: never the benchmark's own database, Redis db or ports.
"""
import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

LIB = os.path.dirname(os.path.abspath(__file__))
LT_DIR = os.path.dirname(LIB)
ROOT = os.path.dirname(LT_DIR)
sys.path.insert(0, LIB)

import bench  # noqa: E402
import measure  # noqa: E402
import procs  # noqa: E402

OUT = os.path.join(LT_DIR, "out", "selftest")
PORT = int(os.environ.get("SELFTEST_PORT", "18089"))
REF_PORT = int(os.environ.get("SELFTEST_REF_PORT", "18090"))
MOCK = os.path.join(LIB, "mock", "mock-gateway.js")
REF_SURFACE = "s1:pbs_test_secret_0123456789"
fails = 0


def ok(name):
    print(f"ok   {name}", flush=True)


def fail(name):
    global fails
    fails += 1
    print(f"FAIL {name}", flush=True)


def expect(name, got, want):
    if got == want:
        ok(name)
    else:
        fail(f"{name}: got {got!r}, want {want!r}")


def truth(name, cond, detail=""):
    ok(name) if cond else fail(f"{name} {detail}")


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(LT_OUT=OUT, GATEWAY_PORT=str(PORT), REF_PORT=str(REF_PORT), PG_DB="gateway_selftest",
               REF_DB="lean_selftest", REDIS_DB="14", REF_REDIS_DB="15", GATEWAY_CMD=f"node {MOCK}",
               REFERENCE_CMD=f"env MOCK_SURFACES={REF_SURFACE} node {MOCK}", RATE_HINT="40000", ROUNDS="1",
               DURATION="3", WARMUP="0", WINDOW_SKIP="1")
    env.update(extra)
    return env


def run_bench(name, want_rc, **extra):
    r = subprocess.run([sys.executable, os.path.join(LIB, "bench.py")], env=base_env(**extra), capture_output=True,
                       text=True, timeout=600)
    expect(f"run {name}: exit code", r.returncode, want_rc)
    if r.returncode != want_rc:
        print(r.stdout[-3000:], r.stderr[-3000:])
    return r


def units():
    print("== GenRequests vs openssl")
    os.makedirs(OUT, exist_ok=True)
    cls = os.path.join(OUT, "classes")
    procs.run(["javac", "-d", cls, os.path.join(LIB, "GenRequests.java")])
    secret = 'sëcret+/=with"quote'
    path = os.path.join(OUT, "gen.tsv")
    procs.run(["java", "-cp", cls, "GenRequests", "--count", "1000", "--prefix", "selftest-g", "--out", path],
              env=dict(os.environ, LT_SECRET=secret))
    lines = open(path, "rb").read().split(b"\n")[:-1]
    expect("1000 lines", len(lines), 1000)
    expect("one line length", len({len(x) for x in lines}), 1)
    bodies = [json.loads(x.split(b"\t")[2]) for x in lines]
    expect("unique externalIds", len({b["externalId"] for b in bodies}), 1000)
    truth("occurredAt in every body", all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b["occurredAt"])
                                          for b in bodies))
    for n in (0, 499, 999):
        ts, sig, body = lines[n].split(b"\t")
        mac = subprocess.run(["openssl", "dgst", "-sha256", "-hmac", secret], input=ts + b"." + body,
                             capture_output=True).stdout.split()[-1].decode()
        expect(f"openssl HMAC line {n + 1}", mac, sig.decode())
    truth("timestamp is now (ms)", abs(int(lines[0].split(b"\t")[0]) - time.time() * 1000) < 60000)
    os.remove(path)

    print("== Postgres process titles")
    c = measure.Cluster.__new__(measure.Cluster)
    c.cluster_name = "15/main"
    expect("client backend", c.database_of("postgres: 15/main: postgres gateway_bench 127.0.0.1(4321) idle"),
           "gateway_bench")
    expect("backend in a statement", c.database_of("postgres: 15/main: postgres lean_bench 127.0.0.1(1) INSERT"),
           "lean_bench")
    expect("walwriter is auxiliary", c.database_of("postgres: 15/main: walwriter"), None)
    expect("autovacuum worker is auxiliary", c.database_of("postgres: 15/main: autovacuum worker gateway_bench"), None)
    c.cluster_name = ""
    expect("no cluster name, local socket", c.database_of("postgres: postgres test [local] idle"), "test")

    print("== window counting and CPU deltas")
    b = [(1000, 5), (1010, 7), (1020, 9), (1030, 11)]
    expect("buckets inside [1010, 1030)", measure.count_in(b, 1010, 1030), 16)
    expect("bucket straddling the start counts by its middle", measure.count_in(b, 1006, 1030), 16)
    s1 = {"t": 10.0, "pids": {1: ("jvm", 100), 2: ("pg", 50), 3: ("pg", 10)}, "machine": (1000, 600, 10)}
    s2 = {"t": 12.0, "pids": {1: ("jvm", 300), 2: ("pg", 80), 4: ("pg", 5)}, "machine": (1400, 700, 20)}
    d = measure.cpu_delta(s1, s2)
    tck = measure.TCK
    expect("jvm delta", d["jvm"], 200 / tck)
    expect("pg: survivor delta + newborn whole, vanished not charged", d["pg"], 35 / tck)
    expect("machine busy", d["machine_busy"], 300 / tck)
    expect("others = busy - ours - softirq", round(d["others"], 6), round((300 - 235 - 10) / tck, 6))
    expect("µs per op", round(measure.per_op_us(d, 1000)["jvm"], 3), round(200 / tck * 1000, 3))
    expect("LT_RESULT parse", measure.parse_lt_result("x\nLT_RESULT ok=3 statuses=200:3,401:1\n"),
           {"ok": 3, "statuses": "200:3,401:1"})

    print("== click Location rule")
    cases = [("https://s.example/l?utm=b", "https://s.example/l?utm=b&clickId=ck_1", True),
             ("https://s.example/l", "https://s.example/l?clickId=ck_1", True),
             ("https://s.example/l?", "https://s.example/l?clickId=ck_1", True),
             ("https://s.example/l?a=1#top", "https://s.example/l?a=1&clickId=ck_1#top", True),
             ("https://s.example/l?a=1#top", "https://s.example/l?a=1&clickId=ck_1", False),
             ("https://s.example/l?utm=b", "https://s.example/l?utm=b", False),
             ("https://s.example/l?utm=b", "https://s.example/l?utm=b&clickId=", False),
             ("https://s.example/l?utm=b", "https://x.example/l?utm=b&clickId=ck_1", False),
             ("https://s.example/l?utm=b", "https://s.example/l?utm=b&clickId=ck_1&x=1", False)]
    for dest, loc, want in cases:
        expect(f"{loc} for {dest}", bench.click_location_ok(dest, loc), want)


def wrk_scripts():
    print("== wrk scripts against the mock")
    pg = procs.Pg("127.0.0.1", 5432, "postgres")
    pg.recreate("gateway_selftest")
    env = dict(os.environ, GATEWAY_HTTP_PORT=str(PORT), GATEWAY_PG_URL=pg.url("gateway_selftest"),
               GATEWAY_ADMIN_TOKEN="selftest-admin-token", MOCK_SURFACES="sf:the-secret")
    mock = procs.start("mock", ["node", MOCK], os.path.join(OUT, "mock.log"), env=env)
    try:
        url = f"http://127.0.0.1:{PORT}"
        procs.wait_until(lambda: procs.request("GET", url + "/health/ready")[0] == 200, 30, "mock ready", mock)
        cls = os.path.join(OUT, "classes")
        wrk = measure.Wrk(1, 8, 1, "5s", 0.5, OUT)
        script = os.path.join(LIB, "wrk", "postback.lua")

        def gen(secret, count, name):
            path = os.path.join(OUT, f"{name}.tsv")
            procs.run(["java", "-cp", cls, "GenRequests", "--count", str(count), "--prefix", name, "--out", path],
                      env=dict(os.environ, LT_SECRET=secret))
            return path

        bad = wrk.run("st-bad", url, script, {"file": gen("wrong", 3000, "st-bad"), "surface": "sf",
                                              "mode": "unique"}, 1)
        expect("bad signatures: no ok", bad["ok"], 0)
        truth("bad signatures: responses counted", bad["responses"] > 0)
        expect("bad signatures: all 401", bad["statuses"], f"401:{bad['responses']}")
        expect("drained: nothing unanswered", bad["unanswered"], 0)
        expect("no rows", pg.count("gateway_selftest", "select count(*) from conversions"), 0)

        good_file = gen("the-secret", 100000, "st-good")
        sampler = measure.Sampler(measure.Cluster(pg), os.getpid(), mock.pid, "gateway_selftest")
        good = wrk.run("st-good", url, script, {"file": good_file, "surface": "sf", "mode": "unique"}, 2,
                       sampler=sampler)
        truth("unique: ok counted", good["ok"] > 0 and good["bad"] == 0 and good["non_ok"] == 0, str(good))
        expect("unique: rows == ok", pg.settled_count("gateway_selftest", "select count(*) from conversions"),
               good["ok"])
        truth("window: a share of the ok answers, at a rate near the whole run's",
              0 < good["window_ok"] < good["ok"] and 0.3 < good["rate"] / good["rate_all"] < 3,
              f"{good['window_ok']} of {good['ok']}, {good['rate']:.0f}/s vs {good['rate_all']:.0f}/s")
        truth("window: CPU of the mock sampled", good["cpu"]["jvm"] > 0 and good["us"]["jvm"] > 0)
        b = bench.Bench.__new__(bench.Bench)
        b.phases_dir, b.temp_files = OUT, []
        replay = b.replay_file(type("T", (), {"name": "st"})(), good_file, good, "replay")
        expect("replay file: the lines sent", os.path.getsize(replay) // len(open(good_file, "rb").readline()),
               good["sent"])
        dup = wrk.run("st-dup", url, script, {"file": replay, "surface": "sf", "mode": "replay"}, 1)
        truth("replay: every answer a duplicate", dup["ok"] > 0 and dup["bad"] == 0 and dup["non_ok"] == 0, str(dup))
        new = wrk.run("st-new", url, script, {"file": gen("the-secret", 2000, "st-new"), "surface": "sf",
                                              "mode": "replay"}, 1)
        truth("replay of lines never accepted: counted bad", new["bad"] > 0 and new["ok"] < new["responses"],
              str(new))

        small = wrk.run("st-small", url, script, {"file": gen("the-secret", 50, "st-small"), "surface": "sf",
                                                  "mode": "unique"}, 1)
        expect("exhausted file: flagged", small["exhausted"], 1)
        expect("exhausted file: each line once", small["sent"], 50)

        rate = wrk.run("st-rate", url, os.path.join(LIB, "wrk", "health.lua"), {}, 2, rate=500)
        truth("rate=500 for 2 s: about 1000 requests", 850 <= rate["sent"] <= 1050, f"sent {rate['sent']}")

        auth = {"authorization": "Bearer selftest-admin-token"}
        aff = procs.http_json("POST", url + "/admin/affiliates", {"name": "a", "status": "active"}, auth)
        link = procs.http_json("POST", url + "/admin/links", {"surfaceId": "sf", "affiliateId": aff["id"],
                                                              "destinationUrl": "https://shop.example/l?u=1"}, auth)
        click = os.path.join(LIB, "wrk", "click.lua")
        ck = wrk.run("st-click", url, click, {"path": f"/c/{link['code']}?sub1=st",
                                              "dest": "https://shop.example/l?u=1"}, 1)
        truth("clicks: 302s with a clickId", ck["ok"] > 0 and ck["ok"] == ck["responses"] and ck["no_id"] == 0)
        expect("clicks: rows == 302s", pg.settled_count(
            "gateway_selftest", f"select count(*) from clicks where link_code = '{link['code']}'"), ck["ok"])
        nf = wrk.run("st-click404", url, click, {"path": "/c/nope", "dest": "https://shop.example/l?u=1"}, 1)
        expect("unknown code: all 404", nf["statuses"], f"404:{nf['responses']}")
        wrong = wrk.run("st-clickbad", url, click, {"path": f"/c/{link['code']}", "dest": "https://other.example/"}, 1)
        truth("wrong destination: counted malformed", wrong["bad"] > 0 and wrong["ok"] == 0)
    finally:
        procs.stop(mock)
        for f in glob.glob(os.path.join(OUT, "*.tsv")):
            os.remove(f)


def receiver():
    print("== webhook receiver (lost / doubled counting)")
    jar = os.environ.get("GATEWAY_JAR", os.path.join(ROOT, "target", "postback-gateway.jar"))
    if not os.path.exists(jar):
        print(f"skip receiver check: {jar} missing (it supplies Vert.x); build it with mvn -B -q package -DskipTests")
        return
    r = procs.start("receiver", ["java", "-Xmx64m", "-cp", jar, os.path.join(LIB, "Receiver.java")],
                    os.path.join(OUT, "receiver.log"))
    try:
        procs.wait_until(lambda: "READY port=" in open(r.log_path).read(), 60, "receiver ready", r)
        url = "http://127.0.0.1:" + re.search(r"READY port=(\d+)", open(r.log_path).read()).group(1)
        for path, wid in (("/hook/0", "evt_a"), ("/hook/0", "evt_a"), ("/hook/1", "evt_a"), ("/hook/0", "evt_b")):
            expect(f"POST {path} {wid} -> 204", procs.request("POST", url + path, "{}", {"webhook-id": wid})[0], 204)
        expect("stats", json.loads(procs.request("GET", url + "/stats")[2]),
               {"received": 4, "distinct": 3, "duplicates": 1})
    finally:
        procs.stop(r)


def end_to_end():
    print("== bench.py end to end (a mock as gateway, another as reference)")
    r = run_bench("normal", 0, SCENARIOS="postback duplicate click", ROUNDS="2", WARMUP="2")
    for pat in (r"^gateway postbacks/s\s+\d+\s+\d+\s+\d+$", r"^reference duplicates/s ", r"^ratio gateway ÷ reference ",
                r"^  gateway\s+\d", r"^  reference\s+\d", r"^gateway clicks/s ", r"^postbacks/s gateway ÷ reference ",
                r"^clicks/s ÷ gateway health/live/s ",
                r"^benchmark raises limits: GATEWAY_CLICK_IP_RATE_PER_SECOND=0 GATEWAY_CLICK_LINK_RATE_PER_SECOND=0$",
                r"^\d+ of \d+ checks passed"):
        truth(f"summary has /{pat}/", re.search(pat, r.stdout, re.M), "")
    truth("no failed check", "CHECK FAILED" not in r.stdout)
    res = json.load(open(os.path.join(OUT, "results.json")))
    truth("results.json: 2 rounds with both targets",
          len(res["results"]["rounds"]) == 2 and all(rd["reference"]["postback"]["rate"] > 0
                                                     for rd in res["results"]["rounds"]))
    truth("results.md written", os.path.getsize(os.path.join(OUT, "results.md")) > 0)
    kept = glob.glob(os.path.join(OUT, "runs", "*", "results.md"))
    truth("results kept per run", any(open(k).read() == open(os.path.join(OUT, "results.md")).read() for k in kept))
    expect("request files removed", glob.glob(os.path.join(OUT, "phases", "*.tsv")), [])
    truth("services stopped", not procs.port_in_use(PORT) and not procs.port_in_use(REF_PORT))

    r = run_bench("limits printed", 0, SCENARIOS="click", LIMIT_OVERRIDES="GATEWAY_CLICK_RATE_LIMIT=1000000")
    truth("'benchmark raises limits' names the override",
          "benchmark raises limits: GATEWAY_CLICK_RATE_LIMIT=1000000" in r.stdout)

    r = run_bench("gateway loses every 500th row", 3, SCENARIOS="postback click",
                  GATEWAY_CMD=f"env MOCK_LOSE_EVERY=500 node {MOCK}")
    truth("rows check fails", re.search(r"^CHECK FAILED  gateway rows == 200s", r.stdout, re.M))
    truth("clicks check fails", re.search(r"^CHECK FAILED  gateway clicks rows == 302s", r.stdout, re.M))
    truth("reference rows still pass", "CHECK FAILED  reference rows" not in r.stdout)

    r = run_bench("clicks redirected without a clickId", 3, SCENARIOS="click",
                  GATEWAY_CMD=f"env MOCK_CLICK_UNRECORDED_EVERY=300 node {MOCK}")
    truth("clickId check fails", re.search(r"redirects without a clickId", r.stdout))

    r = run_bench("request file too small", 4, SCENARIOS="postback", RATE_HINT="100")
    truth("RESULT INVALID line", re.search(r"^RESULT INVALID .*request file exhausted", r.stdout, re.M))
    truth("rows still exact", "CHECK FAILED" not in r.stdout)

    r = run_bench("slow gateway, targets enforced", 5, SCENARIOS="postback", ENFORCE_TARGETS="1",
                  GATEWAY_CMD=f"env MOCK_DELAY_MS=200 node {MOCK}")
    truth("NOT MET line", re.search(r"^postbacks/s gateway ÷ reference .*NOT MET$", r.stdout, re.M))

    r = run_bench("wrong admin token", 1, SCENARIOS="postback",
                  GATEWAY_CMD=f"env GATEWAY_ADMIN_TOKEN=right-token-0123456789 node {MOCK}")
    truth("admin error reported", "POST http://127.0.0.1:%d/admin/surfaces -> 401" % PORT in r.stderr)

    r = run_bench("unknown scenario", 1, SCENARIOS="postback nosuch")
    truth("names the scenario", "unknown scenario 'nosuch'" in r.stderr)

    print("== SIGTERM mid-run stops wrk and the services")
    p = subprocess.Popen([sys.executable, os.path.join(LIB, "bench.py")],
                         env=base_env(SCENARIOS="postback", DURATION="20"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not glob.glob(os.path.join(OUT, "phases", "gateway-r1-postback.start")):
        time.sleep(0.2)
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    expect("exit code after SIGTERM", p.returncode, 143)
    truth("services stopped", not procs.port_in_use(PORT) and not procs.port_in_use(REF_PORT))
    expect("request files removed", glob.glob(os.path.join(OUT, "phases", "*.tsv")), [])
    truth("no wrk left behind", subprocess.run(["pgrep", "-f", f"wrk .*127.0.0.1:{PORT}"],
                                               capture_output=True).returncode != 0)


def main():
    procs.ensure_tools("wrk", "psql", "redis-cli", "java", "javac", "node", "openssl")
    os.makedirs(OUT, exist_ok=True)
    for port in (PORT, REF_PORT):
        if procs.port_in_use(port):
            print(f"port {port} is in use: set SELFTEST_PORT / SELFTEST_REF_PORT", file=sys.stderr)
            return 1
    try:
        units()
        wrk_scripts()
        receiver()
        end_to_end()
    finally:
        procs.stop_all()
        pg = procs.Pg("127.0.0.1", 5432, "postgres")
        for db in ("gateway_selftest", "lean_selftest"):
            pg.query("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    print()
    print("SELFTEST PASS" if fails == 0 else f"SELFTEST FAIL ({fails})")
    return 0 if fails == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
