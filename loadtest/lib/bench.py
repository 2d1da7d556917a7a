#!/usr/bin/env python3
"""Postback Gateway benchmark, side by side with the lean reference. Entry: bash loadtest/run.sh
(usage and method: loadtest/README.md). Exit codes: 0 ok; 1 setup/run error; 3 a check failed
(rows != 200s, lost or doubled deliveries, ...); 4 a result is invalid (request file or delivery
backlog exhausted); 5 a target not met with ENFORCE_TARGETS=1; 130/143 interrupted."""
import glob
import json
import math
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time

import measure
import procs
import report
from measure import Cluster, Sampler, Wrk
from procs import HarnessError, Pg, log

LIB = os.path.dirname(os.path.abspath(__file__))
LT_DIR = os.path.dirname(LIB)
ROOT = os.path.dirname(LT_DIR)
WRK_DIR = os.path.join(LIB, "wrk")
ALL_SCENARIOS = ("postback", "duplicate", "click", "delivery", "mixed", "soak", "prefilled")
# Not in the default run: its prefill takes minutes (and gigabytes) the first time.
DEFAULT_SCENARIOS = ("postback", "duplicate", "click", "delivery", "mixed", "soak")
PROFILABLE = ("postback", "duplicate", "click", "health", "delivery", "mixed")


# ---- settings ---------------------------------------------------------------------------------------

def env(name, default):
    v = os.environ.get(name)
    return default if v is None or v == "" else v


def env_int(name, default, minimum=0):
    v = env(name, str(default))
    if not re.fullmatch(r"\d+", v) or int(v) < minimum:
        raise HarnessError(f"{name} must be a whole number >= {minimum} (got '{v}')")
    return int(v)


def env_float(name, default):
    try:
        return float(env(name, str(default)))
    except ValueError:
        raise HarnessError(f"{name} must be a number (got '{env(name, '')}')")


class Settings:
    def __init__(self):
        self.rounds = env_int("ROUNDS", 3, 1)
        self.duration = env_int("DURATION", 10, 2)
        self.warmup = env_int("WARMUP", 20)
        self.drain = env_int("DRAIN", 2)
        self.skip = env_float("WINDOW_SKIP", 2)
        self.threads = env_int("THREADS", 1, 1)
        self.connections = env_int("CONNECTIONS", 64, 1)
        self.wrk_timeout = env("WRK_TIMEOUT", "5s")
        self.rate_hint = env_int("RATE_HINT", 30000, 100)
        self.scenarios = env("SCENARIOS", " ".join(DEFAULT_SCENARIOS)).split()
        self.delivery_events = env_int("DELIVERY_EVENTS", 25000, 1)
        self.endpoints = env_int("DELIVERY_ENDPOINTS", 4, 1)
        # Affiliate postback templates (issue 11) beside the webhook endpoints: every delivery event fires
        # each of them too, so a delivery batch is mixed webhooks and rendered GET postbacks.
        self.postbacks = env_int("DELIVERY_POSTBACKS", 2, 0)
        self.destinations = self.endpoints + self.postbacks
        self.mixed_deliveries = env_int("MIXED_DELIVERIES", 0)
        self.soak_seconds = env_int("SOAK_SECONDS", 300, 1)
        self.soak_phase = env_int("SOAK_PHASE", 30, 5)
        self.soak_load = env_float("SOAK_LOAD", 1.0)
        self.soak_rate = env_float("SOAK_RATE", 0)
        self.soak_flat_mb = env_float("SOAK_FLAT_MB", 8)
        self.profile = env("PROFILE", "")
        self.profile_seconds = env_int("PROFILE_SECONDS", 30, 3)
        self.java_opts = env("JAVA_OPTS", "-Xms256m -Xmx256m")
        self.gateway_jar = env("GATEWAY_JAR", os.path.join(ROOT, "target", "postback-gateway.jar"))
        self.gateway_cmd = env("GATEWAY_CMD", "")
        self.gateway_port = env_int("GATEWAY_PORT", 8089, 1)
        self.pg_host, self.pg_port, self.pg_user = env("PG_HOST", "127.0.0.1"), env_int("PG_PORT", 5432), \
            env("PG_USER", "postgres")
        self.pg_db = env("PG_DB", "gateway_bench")
        self.redis_host, self.redis_port = env("REDIS_HOST", "127.0.0.1"), env_int("REDIS_PORT", 6379)
        self.redis_db = env_int("REDIS_DB", 3)
        self.admin_token = env("ADMIN_TOKEN", "bench-admin-token")
        self.reference = env("REFERENCE", "1") != "0"
        self.reference_cmd = env("REFERENCE_CMD", "")
        self.lean_dir = env("LEAN_INGEST_DIR", "")
        self.ref_port = env_int("REF_PORT", 18431, 1)
        self.ref_db = env("REF_DB", "lean_bench")
        self.ref_redis_db = env_int("REF_REDIS_DB", 12)
        # The prefilled scenario: a second gateway on a database holding PREFILL_ROWS clicks and as many
        # conversions, spread over the PREFILL_DAYS days before today (their day partitions).
        self.prefill_db = env("PREFILL_DB", "gateway_bench_filled")
        self.prefill_port = env_int("PREFILL_PORT", 8090, 1)
        self.prefill_redis_db = env_int("PREFILL_REDIS_DB", 4)
        self.prefill_rows = env_int("PREFILL_ROWS", 10_000_000, 1000)
        self.prefill_days = env_int("PREFILL_DAYS", 30, 1)
        self.prefill_keep = env("PREFILL_KEEP", "1") == "1"
        # Every click comes from one address and goes to one link: the gateway's per-address and per-link
        # click limits (defaults 20/s and 5,000/s) would measure the limiter, not the click path.
        self.limit_overrides = env("LIMIT_OVERRIDES",
                                   "GATEWAY_CLICK_IP_RATE_PER_SECOND=0 GATEWAY_CLICK_LINK_RATE_PER_SECOND=0").split()
        self.enforce = env("ENFORCE_TARGETS", "0") == "1"
        self.strict = env("STRICT_COUNT", "0") == "1"
        self.keep_files = env("KEEP_REQUEST_FILES", "0") == "1"
        self.ready_timeout = env_int("READY_TIMEOUT", 90, 1)
        self.stall_timeout = env_int("STALL_TIMEOUT", 60, 1)
        self.stop_timeout = env_int("STOP_TIMEOUT", 30, 1)
        self.out = os.path.abspath(env("LT_OUT", os.path.join(LT_DIR, "out")))
        self.click_destination = env("CLICK_DESTINATION", "https://shop.example/landing?utm=bench")
        self.click_query = os.environ.get("CLICK_QUERY", "sub1=bench")

        for s in self.scenarios:
            if s not in ALL_SCENARIOS:
                raise HarnessError(f"unknown scenario '{s}' (have: {' '.join(ALL_SCENARIOS)})")
        if "duplicate" in self.scenarios and "postback" not in self.scenarios:
            raise HarnessError("scenario duplicate needs postback in SCENARIOS (it replays what was accepted)")
        if "mixed" in self.scenarios and "delivery" not in self.scenarios:
            raise HarnessError("scenario mixed needs delivery in SCENARIOS (it sizes its backlog from it)")
        if "soak" in self.scenarios and "postback" not in self.scenarios and not self.soak_rate:
            raise HarnessError("scenario soak needs postback in SCENARIOS or SOAK_RATE")
        if self.profile and self.profile not in PROFILABLE:
            raise HarnessError(f"PROFILE must be one of {', '.join(PROFILABLE)}")
        if self.duration < self.skip + 1.5:
            raise HarnessError("DURATION must be at least WINDOW_SKIP + 1.5 s")
        if max(self.duration, self.warmup, self.soak_phase, self.profile_seconds) + self.drain > 240:
            raise HarnessError("a phase may last at most 240 s: signed timestamps expire after 5 minutes")
        if self.connections < self.threads:
            raise HarnessError("CONNECTIONS must be >= THREADS")
        for kv in self.limit_overrides:
            if not re.fullmatch(r"GATEWAY_[A-Z0-9_]+=\S*", kv):
                raise HarnessError(f"LIMIT_OVERRIDES entries must be GATEWAY_NAME=value (got '{kv}')")


# ---- the run ----------------------------------------------------------------------------------------

class Target:
    """A measured service: the gateway or the reference."""

    def __init__(self, name, url, db, redis_db):
        self.name, self.url, self.db, self.redis_db = name, url, db, redis_db
        self.service = None
        self.surface = self.secret = None
        self.rows = 0          # conversions expected in its database (every ok answer so far)


class Bench:
    def __init__(self, s, build):
        self.s, self.build = s, build
        self.pg = Pg(s.pg_host, s.pg_port, s.pg_user)
        self.run_id = "b" + time.strftime("%Y%m%d%H%M%S")
        self.phases_dir = os.path.join(s.out, "phases")
        self.wrk = Wrk(s.threads, s.connections, s.drain, s.wrk_timeout, s.skip, self.phases_dir)
        self.gw = Target("gateway", f"http://127.0.0.1:{s.gateway_port}", s.pg_db, s.redis_db)
        self.ref = Target("reference", f"http://127.0.0.1:{s.ref_port}", s.ref_db, s.ref_redis_db) \
            if s.reference else None
        self.filled = Target("filled", f"http://127.0.0.1:{s.prefill_port}", s.prefill_db, s.prefill_redis_db) \
            if "prefilled" in s.scenarios else None
        self.prefill_seconds = None
        self.receiver = None
        self.receiver_url = None
        self.click_path = None
        self.click_rows = 0
        self.deliveries_expected = 0
        self.endpoints = []
        self.affiliate = None
        self.checks = []       # (name, ok, detail)
        self.invalid = []      # reasons a figure is not valid
        self.results = {"rounds": [], "warmup": {}, "soak": None, "profile": None}
        self.temp_files = []
        self.gateway_env_notes = {}

    # -- checks --------------------------------------------------------------------------------------

    def check(self, name, ok, detail):
        self.checks.append((name, ok, detail))
        if not ok:
            log(f"CHECK FAILED {name}: {detail}")

    # -- setup ---------------------------------------------------------------------------------------

    def prepare(self):
        s = self.s
        os.makedirs(self.phases_dir, exist_ok=True)
        for f in glob.glob(os.path.join(self.phases_dir, "*")):
            os.remove(f)
        for f in ("summary.txt", "results.json", "results.md"):
            if os.path.exists(os.path.join(s.out, f)):
                os.remove(os.path.join(s.out, f))
        tools = ["wrk", "psql", "redis-cli", "java", "javac"]
        if "soak" in s.scenarios:
            tools.append("jcmd")
        if s.profile:
            tools += ["jcmd", "jfr"]
        procs.ensure_tools(*tools)
        if not s.gateway_cmd:
            self.build_gateway()
        self.gen_classes = os.path.join(s.out, "classes")
        os.makedirs(self.gen_classes, exist_ok=True)
        procs.run(["javac", "-d", self.gen_classes, os.path.join(LIB, "GenRequests.java")])
        if self.ref:
            self.prepare_reference()

    def build_gateway(self):
        jar = self.s.gateway_jar
        stale = not os.path.exists(jar)
        if not stale and self.build == "auto" and jar.startswith(ROOT):
            mtime = os.path.getmtime(jar)
            stale = any(os.path.getmtime(p) > mtime for p in
                        [os.path.join(ROOT, "pom.xml")] + glob.glob(os.path.join(ROOT, "src", "main", "**", "*"),
                                                                     recursive=True))
        if self.build == "always" or (self.build == "auto" and stale):
            procs.ensure_tools("mvn")
            log(f"building {jar} (mvn -B -q package -DskipTests)")
            procs.run(["mvn", "-B", "-q", "package", "-DskipTests"], cwd=ROOT, timeout=1200)
        if not os.path.exists(jar):
            raise HarnessError(f"{jar} not found (run without --no-build, or set GATEWAY_JAR)")

    def lean_source(self):
        """The read-only reference: LEAN_INGEST_DIR, else ../shared/bench/lean-ingest beside the
        repository (CI), else beside the main checkout when this is a git worktree."""
        if self.s.lean_dir:
            cands = [self.s.lean_dir]
        else:
            cands = [os.path.join(ROOT, "..", "shared", "bench", "lean-ingest")]
            try:
                common = procs.run(["git", "-C", ROOT, "rev-parse", "--path-format=absolute", "--git-common-dir"],
                                   check=False).strip()
                if common:
                    cands.append(os.path.join(os.path.dirname(os.path.dirname(common)), "shared", "bench",
                                              "lean-ingest"))
            except (OSError, HarnessError):
                pass
        for c in cands:
            if os.path.isfile(os.path.join(c, "pom.xml")):
                return os.path.abspath(c)
        raise HarnessError("lean reference not found (tried " + ", ".join(cands) +
                           "): set LEAN_INGEST_DIR, or REFERENCE=0 to measure the gateway alone")

    def prepare_reference(self):
        s = self.s
        if s.reference_cmd:
            self.ref_cmd = s.reference_cmd
            self.ref_schema = None
            self.ref_source = "REFERENCE_CMD"
            return
        src = self.lean_source()
        dst = os.path.join(s.out, "lean-ingest")
        jar = os.path.join(dst, "target", "proto.jar")
        same = os.path.exists(jar) and subprocess.run(
            ["diff", "-rq", "--exclude=target", src, dst], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL).returncode == 0
        if not same:
            log(f"copying the lean reference {src} -> {dst} and building it (mvn -B -q package -DskipTests)")
            if os.path.exists(dst):
                subprocess.run(["chmod", "-R", "u+w", dst], check=False)
                shutil.rmtree(dst)
            shutil.copytree(src, dst)
            subprocess.run(["chmod", "-R", "u+w", dst], check=True)  # the source is read-only
            procs.ensure_tools("mvn")
            procs.run(["mvn", "-B", "-q", "package", "-DskipTests"], cwd=dst, timeout=1200)
        else:
            log(f"lean reference: {dst} is an up-to-date build of {src}")
        self.ref_source = src
        self.ref_schema = os.path.join(dst, "schema.sql")
        self.ref_cmd = (f"java {s.java_opts} -Dport={s.ref_port} -DpgDb={s.ref_db} "
                        f"-DredisUri=redis://{s.redis_host}:{s.redis_port}/{s.ref_redis_db} -jar {shlex.quote(jar)}")

    def gateway_environment(self):
        s = self.s
        env = dict(os.environ)
        env.update(GATEWAY_HTTP_PORT=str(s.gateway_port), GATEWAY_PG_URL=self.pg.url(s.pg_db),
                   GATEWAY_REDIS_URL=f"redis://{s.redis_host}:{s.redis_port}/{s.redis_db}",
                   GATEWAY_ADMIN_TOKEN=s.admin_token)
        sets = {}
        if {"delivery", "mixed"} & set(s.scenarios) or s.profile in ("delivery", "mixed"):
            sets["GATEWAY_ALLOW_PRIVATE_DESTINATIONS"] = "true"  # the receiver listens on 127.0.0.1
        limits = dict(kv.split("=", 1) for kv in s.limit_overrides)
        plumbing = {"GATEWAY_HTTP_PORT", "GATEWAY_PG_URL", "GATEWAY_REDIS_URL", "GATEWAY_ADMIN_TOKEN"}
        inherited = {k: v for k, v in os.environ.items()
                     if k.startswith("GATEWAY_") and k not in plumbing and k not in sets and k not in limits
                     and k not in ("GATEWAY_JAR", "GATEWAY_CMD", "GATEWAY_PORT")}
        env.update(sets)
        env.update(limits)
        self.gateway_env_notes = {"sets": sets, "limits": limits, "inherited": inherited}
        return env

    def start_services(self):
        s = self.s
        for port, what in ((s.gateway_port, "GATEWAY_PORT"), (s.ref_port if self.ref else None, "REF_PORT")):
            if port and procs.port_in_use(port):
                raise HarnessError(f"port {port} ({what}) is already in use (an old run still up?)")
        log(f"recreating database {s.pg_db}; flushing Redis db {s.redis_db}")
        self.pg.recreate(s.pg_db)
        procs.redis_cli(s.redis_host, s.redis_port, s.redis_db, "FLUSHDB")
        genv = self.gateway_environment()
        notes = self.gateway_env_notes
        log("benchmark sets: " + (fmt_env(notes["sets"]) or "nothing beyond ports and credentials"))
        log("benchmark raises limits: " + (fmt_env(notes["limits"]) or "none (LIMIT_OVERRIDES is empty)"))
        if notes["inherited"]:
            log("GATEWAY_* from the environment (passed through): " + fmt_env(notes["inherited"]))
        self.gateway_cmd = s.gateway_cmd or f"java {s.java_opts} -jar {shlex.quote(s.gateway_jar)}"
        self.gw.service = procs.start("gateway", self.gateway_cmd, os.path.join(s.out, "gateway.log"), env=genv,
                                      cwd=ROOT)
        if self.ref:
            log(f"recreating database {s.ref_db}; flushing Redis db {s.ref_redis_db}")
            self.pg.recreate(s.ref_db)
            if self.ref_schema:
                self.pg.run_file(s.ref_db, self.ref_schema)
            procs.redis_cli(s.redis_host, s.redis_port, s.ref_redis_db, "FLUSHDB")
            renv = dict(os.environ, GATEWAY_HTTP_PORT=str(s.ref_port), GATEWAY_PG_URL=self.pg.url(s.ref_db),
                        GATEWAY_REDIS_URL=f"redis://{s.redis_host}:{s.redis_port}/{s.ref_redis_db}")
            self.ref.service = procs.start("reference", self.ref_cmd, os.path.join(s.out, "reference.log"),
                                           env=renv, cwd=os.path.join(s.out))
        if self.filled:
            self.start_filled(genv)
        if {"delivery", "mixed"} & set(s.scenarios) or s.profile in ("delivery", "mixed"):
            jar = s.gateway_jar
            self.receiver = procs.start("receiver", ["java", "-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-cp", jar,
                                                     os.path.join(LIB, "Receiver.java")],
                                        os.path.join(s.out, "receiver.log"))
        procs.wait_until(lambda: procs.request("GET", self.gw.url + "/health/ready")[0] == 200, s.ready_timeout,
                         "waiting for the gateway's /health/ready", self.gw.service)
        log(f"gateway ready (pid {self.gw.service.pid})")
        if self.ref:
            procs.wait_until(lambda: procs.request("GET", self.ref.url + "/health/live")[0] == 200,
                             s.ready_timeout, "waiting for the reference's /health/live", self.ref.service)
            log(f"reference ready (pid {self.ref.service.pid})")
        if self.receiver:
            procs.wait_until(lambda: "READY port=" in open(self.receiver.log_path).read(), 60,
                             "waiting for the webhook receiver", self.receiver)
            port = re.search(r"READY port=(\d+)", open(self.receiver.log_path).read()).group(1)
            self.receiver_url = f"http://127.0.0.1:{port}"
            log(f"webhook receiver ready on {self.receiver_url} (pid {self.receiver.pid})")
        if self.filled:
            self.prefill()
        self.cluster = Cluster(self.pg)
        self.autovacuum = self.pg.query("postgres", "show autovacuum")
        self.synchronous_commit = self.pg.query("postgres", "show synchronous_commit")
        info = procs.redis_cli(s.redis_host, s.redis_port, 0, "INFO", "server")
        self.redis_pid = int(re.search(r"process_id:(\d+)", info).group(1))

    def start_filled(self, genv):
        """The second gateway, on the prefilled database (kept between runs when it matches PREFILL_*)."""
        s = self.s
        if procs.port_in_use(s.prefill_port):
            raise HarnessError(f"port {s.prefill_port} (PREFILL_PORT) is already in use (an old run still up?)")
        marker = f"{s.prefill_rows} {s.prefill_days}"
        exists = self.pg.query("postgres", f"SELECT count(*) FROM pg_database WHERE datname = '{s.prefill_db}'") == "1"
        self.prefill_reused = s.prefill_keep and exists and self.pg.query(
            s.prefill_db, "SELECT CASE WHEN to_regclass('bench_prefill') IS NULL THEN '' ELSE "
                          "(SELECT rows || ' ' || days FROM bench_prefill) END") == marker
        if not self.prefill_reused:
            log(f"recreating database {s.prefill_db} (to be prefilled)")
            self.pg.recreate(s.prefill_db)
        else:
            log(f"reusing database {s.prefill_db}: already prefilled with {s.prefill_rows} clicks and conversions")
        procs.redis_cli(s.redis_host, s.redis_port, s.prefill_redis_db, "FLUSHDB")
        fenv = dict(genv, GATEWAY_HTTP_PORT=str(s.prefill_port), GATEWAY_PG_URL=self.pg.url(s.prefill_db),
                    GATEWAY_REDIS_URL=f"redis://{s.redis_host}:{s.redis_port}/{s.prefill_redis_db}")
        self.filled.service = procs.start("filled", self.gateway_cmd, os.path.join(s.out, "gateway-filled.log"),
                                          env=fenv, cwd=ROOT)
        procs.wait_until(lambda: procs.request("GET", self.filled.url + "/health/ready")[0] == 200, s.ready_timeout,
                         "waiting for the prefilled gateway's /health/ready", self.filled.service)
        log(f"prefilled gateway ready (pid {self.filled.service.pid})")

    def prefill(self):
        """PREFILL_ROWS clicks and conversions (half of them attributed to a click), set-based, with ids of
        their instant spread evenly over the PREFILL_DAYS days before today, so the clicks fill those days'
        partitions (created here, as retention would have left them). Then VACUUM ANALYZE."""
        s = self.s
        if self.prefill_reused:
            self.filled.rows = self.pg.count(s.prefill_db, "SELECT count(*) FROM conversions")
            return
        n, days = s.prefill_rows, s.prefill_days
        t0 = time.monotonic()
        alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
        chars = " || ".join(f"substr('{alphabet}', ((t.m >> {5 * (9 - i)}) & 31)::int + 1, 1)" for i in range(10))
        # Instants from midnight PREFILL_DAYS ago to just before today's midnight, evenly.
        series = (f"FROM generate_series(1, {n}) g, LATERAL (SELECT ((extract(epoch FROM current_date - {days}) * 1000)"
                  f"::bigint + (g::bigint * {days} * 86400000) / ({n} + 1)) AS m) t")
        db = s.prefill_db
        self.pg.query(db, """
            INSERT INTO surfaces (id, name, secret) VALUES ('fill', 'prefill', 'pbs_prefill_secret_0123456789');
            INSERT INTO affiliates (id, name, status) VALUES ('fill-aff', 'prefill', 'active');
            INSERT INTO links (code, surface_id, affiliate_id, destination_url)
                 VALUES ('fillcode', 'fill', 'fill-aff', 'https://shop.example/');""")
        self.pg.query(db, f"SELECT create_day_partition('clicks', 'ck', current_date - i) "
                          f"FROM generate_series(1, {days}) i")
        log(f"prefill: {n} clicks over {days} days")
        self.pg.query(db, f"""
            INSERT INTO clicks (id, link_code, surface_id, affiliate_id, clicked_at, ip, user_agent, sub1)
            SELECT 'ck_' || {chars} || substr(md5(g::text), 1, 16), 'fillcode', 'fill', 'fill-aff',
                   to_timestamp(t.m / 1000.0), '10.' || (g % 250) || '.' || (g % 199) || '.' || (g % 97),
                   'Mozilla/5.0 (X11; Linux x86_64) bench', 'sub' || (g % 1000)
            {series}""", timeout=7200)
        log(f"prefill: {n} conversions ({time.monotonic() - t0:.0f} s so far)")
        self.pg.query(db, f"""
            INSERT INTO conversions (id, surface_id, external_id, event_type, gross_minor, currency, occurred_at,
                                     received_at, click_id, status, affiliate_id, commission_minor,
                                     commission_currency, link_code, click_ip)
            SELECT 'cv_' || {chars} || substr(md5('c' || g), 1, 16), 'fill', 'fill-' || g, 'sale', 4999, 'USD',
                   to_timestamp(t.m / 1000.0), to_timestamp(t.m / 1000.0),
                   CASE WHEN g % 2 = 0 THEN 'ck_' || {chars} || substr(md5(g::text), 1, 16) END,
                   CASE WHEN g % 2 = 0 THEN 'attributed' ELSE 'unattributed' END,
                   CASE WHEN g % 2 = 0 THEN 'fill-aff' END, CASE WHEN g % 2 = 0 THEN 500 ELSE 0 END,
                   CASE WHEN g % 2 = 0 THEN 'USD' END, CASE WHEN g % 2 = 0 THEN 'fillcode' END,
                   CASE WHEN g % 2 = 0 THEN '10.0.0.1' END
            {series}""", timeout=7200)
        log(f"prefill: VACUUM ANALYZE ({time.monotonic() - t0:.0f} s so far)")
        self.pg.query(db, "VACUUM ANALYZE", timeout=7200)
        self.pg.query(db, f"CREATE TABLE bench_prefill AS SELECT {n}::bigint AS rows, {days} AS days, now() AS filled_at")
        self.prefill_seconds = time.monotonic() - t0
        self.filled.rows = self.pg.count(db, "SELECT count(*) FROM conversions")
        log(f"prefill done in {self.prefill_seconds:.0f} s")

    def setup_gateway(self):
        s, auth = self.s, {"authorization": f"Bearer {self.s.admin_token}"}
        sf = procs.http_json("POST", self.gw.url + "/admin/surfaces", {"name": "bench"}, auth)
        self.gw.surface, self.gw.secret = sf["id"], sf["secret"]
        log(f"gateway surface {self.gw.surface}")
        if self.ref:
            self.ref.surface, self.ref.secret = "s1", "pbs_test_secret_0123456789"  # fixed in the reference
        if self.filled:
            sf = procs.http_json("POST", self.filled.url + "/admin/surfaces", {"name": "bench"}, auth)
            self.filled.surface, self.filled.secret = sf["id"], sf["secret"]
        aff = None
        if "click" in s.scenarios or s.profile in ("click", "health") or self.receiver:
            aff = procs.http_json("POST", self.gw.url + "/admin/affiliates",
                                  {"name": "bench affiliate", "status": "active"}, auth)
            self.affiliate = aff["id"]
        if "click" in s.scenarios or s.profile in ("click", "health"):
            link = procs.http_json("POST", self.gw.url + "/admin/links",
                                   {"surfaceId": self.gw.surface, "affiliateId": aff["id"],
                                    "destinationUrl": s.click_destination}, auth)
            code = link["code"]
            if not re.fullmatch(r"[A-Za-z0-9_-]+", code):
                raise HarnessError(f"unexpected link code '{code}'")
            self.click_code = code
            self.click_path = f"/c/{code}" + (f"?{s.click_query}" if s.click_query else "")
        if self.receiver:
            # Scoped to the bench affiliate: the postback scenario's conversions are unattributed, so their
            # conversion.created events reach none of these and the postback figures stay free of delivery work.
            for i in range(s.endpoints):
                ep = procs.http_json("POST", self.gw.url + "/admin/webhook-endpoints",
                                     {"url": f"{self.receiver_url}/hook/{i}", "eventTypes": ["conversion.created"],
                                      "affiliateId": self.affiliate}, auth)
                self.endpoints.append(ep["id"])
            for i in range(s.postbacks):
                pb = procs.http_json("POST", self.gw.url + f"/admin/affiliates/{self.affiliate}/postbacks",
                                     {"url": f"{self.receiver_url}/hook/pb{i}?tx={{txid}}&cid={{click_id}}"
                                             "&payout={payout}&cur={currency}&status={status}&s1={sub1}&ts={timestamp}"},
                                     auth)
                self.endpoints.append(pb["id"])
            log(f"{s.endpoints} webhook endpoints and {s.postbacks} affiliate postback templates for the bench "
                f"affiliate's conversion.created -> {self.receiver_url}/hook/<i>, /hook/pb<i>")

    # -- request files -------------------------------------------------------------------------------

    def gen_requests(self, t, count, name):
        path = os.path.join(self.phases_dir, f"reqs-{t.name}-{name}.tsv")
        self.temp_files.append(path)
        procs.run(["java", "-cp", self.gen_classes, "GenRequests", "--count", str(int(count)), "--prefix",
                   f"{self.run_id}-{t.name[0]}-{name}", "--out", path], env=dict(os.environ, LT_SECRET=t.secret))
        return path

    def drop(self, path):
        if not self.s.keep_files and os.path.exists(path):
            os.remove(path)

    def replay_file(self, t, src, res, name):
        """The lines a unique phase sent (all answered): the duplicate phase replays them."""
        text = open(os.path.join(self.phases_dir, res["name"] + ".txt")).read()
        ranges = [(int(a), int(b)) for a, b in re.findall(r"^LT_THREAD first=(\d+) sent=(\d+)$", text, re.M)]
        with open(src, "rb") as f:
            reclen = len(f.readline())
        path = os.path.join(self.phases_dir, f"reqs-{t.name}-{name}.tsv")
        self.temp_files.append(path)
        n = 0
        with open(src, "rb") as f, open(path, "wb") as out:
            for first, sent in ranges:
                f.seek(first * reclen)
                out.write(f.read(sent * reclen))
                n += sent
        if n == 0:
            raise HarnessError(f"nothing to replay from {res['name']}")
        return path

    # -- probes --------------------------------------------------------------------------------------

    def probe_postback(self, t):
        path = self.gen_requests(t, 1, "probe")
        ts, sig, body = open(path).read().rstrip("\n").split("\t")
        status, _, answer = procs.request("POST", t.url + "/v1/conversions", body, {
            "content-type": "application/json", "x-ea-surface": t.surface, "x-ea-timestamp": ts,
            "x-ea-signature": sig})
        self.drop(path)
        if status != 200 or '"duplicate":false' not in answer.replace(" ", ""):
            raise HarnessError(f"probe postback to the {t.name} -> {status}: {answer[:300]}")
        t.rows += 1
        log(f"probe postback to the {t.name} OK: {answer[:120]}")

    def probe_click(self):
        status, headers, _ = procs.request("GET", self.gw.url + self.click_path)
        loc = headers.get("location", "")
        if status != 302 or not click_location_ok(self.s.click_destination, loc):
            raise HarnessError(f"probe click GET {self.click_path} -> {status} Location '{loc}' "
                               f"(want 302 to {self.s.click_destination} with a clickId)")
        self.click_rows += 1
        log(f"probe click OK: 302 -> {loc}")

    # -- phases --------------------------------------------------------------------------------------

    def sampler(self, t, receiver=False):
        return Sampler(self.cluster, self.redis_pid, t.service.pid, t.db,
                       receiver_pid=self.receiver.pid if receiver and self.receiver else None)

    BATCH_ROWS = re.compile(r'^gateway_write_batch_rows_(sum|count)\{writer="([a-z_]+)"\} ([0-9.eE+-]+)$', re.M)

    def batch_rows(self, t):
        """Rows and statements of a gateway's micro-batched writers so far, {writer: [rows, statements]}, from its
        /metrics (gateway_write_batch_rows); empty for the reference or when the scrape fails."""
        if t.name == "reference":
            return {}
        status, _, body = procs.request("GET", t.url + "/metrics")
        out = {}
        if status == 200:
            for kind, writer, value in self.BATCH_ROWS.findall(body):
                out.setdefault(writer, [0.0, 0.0])[0 if kind == "sum" else 1] = float(value)
        return out

    def rows_per_statement(self, t, before, writer):
        """Mean rows per statement of one writer since {before} (batch_rows), or None."""
        after = self.batch_rows(t).get(writer)
        if not after or writer not in before:
            return None
        rows, statements = after[0] - before[writer][0], after[1] - before[writer][1]
        return rows / statements if statements else None

    def quiet(self):
        """Same starting line for every measured phase: WAL flushed, no checkpoint due mid-window."""
        self.pg.query("postgres", "CHECKPOINT")
        time.sleep(0.5)

    def postbacks(self, t, name, send_s, measured, file=None, rate=0, receiver=False, on_snapshot=None,
                  settle=True):
        s = self.s
        if file is None:
            count = (rate * 1.05 + 200 if rate else s.rate_hint) * send_s
            file = self.gen_requests(t, count, name)
        if measured and settle:
            self.quiet()
        batches = self.batch_rows(t)
        res = self.wrk.run(f"{t.name}-{name}", t.url, os.path.join(WRK_DIR, "postback.lua"),
                           {"file": file, "surface": t.surface, "mode": "unique"}, send_s,
                           sampler=self.sampler(t, receiver) if measured else None, on_snapshot=on_snapshot,
                           rate=rate)
        res["file"] = file
        res["rows_per_statement"] = self.rows_per_statement(t, batches, "conversions")
        if res["exhausted"]:
            self.invalid.append(f"{t.name} {name}: request file exhausted (raise RATE_HINT)")
        self.check_rows(t, name, res)
        return res

    def check_rows(self, t, name, res):
        t.rows += res["ok"]
        rows = self.pg.settled_count(t.db, "select count(*) from conversions")
        extra = rows - t.rows
        if extra == 0:
            ok, detail = True, f"{rows} rows == {t.rows} x 200"
        elif 0 < extra <= res["unanswered"] and not self.s.strict:
            ok, detail = True, f"inexact: {extra} extra rows, {res['unanswered']} requests unanswered when wrk stopped"
        else:
            ok, detail = False, f"{rows} rows vs {t.rows} x 200 (difference {extra})"
        self.check(f"{t.name} rows == 200s after {name}", ok, detail)
        if res["bad"]:
            self.check(f"{t.name} {name}: new externalIds answered as duplicates", False,
                       f"{res['bad']} answers said duplicate:true")
        if res["non_ok"] - res["bad"] > 0:
            self.check(f"{t.name} {name}: every postback answered 200", False, f"statuses {res['statuses']}")
        t.rows = rows  # one failure is reported once, not again by every later phase

    def duplicates(self, t, name, src_res, send_s, measured):
        file = self.replay_file(t, src_res["file"], src_res, name)
        if measured:
            self.quiet()
        res = self.wrk.run(f"{t.name}-{name}", t.url, os.path.join(WRK_DIR, "postback.lua"),
                           {"file": file, "surface": t.surface, "mode": "replay"}, send_s,
                           sampler=self.sampler(t) if measured else None)
        self.drop(file)
        rows = self.pg.settled_count(t.db, "select count(*) from conversions")
        self.check(f"{t.name} {name}: every replay answered 200 duplicate:true, no new row",
                   res["non_ok"] == 0 and rows == t.rows,
                   f"{res['ok']} duplicates, {res['bad']} answered as new, statuses {res['statuses']}, "
                   f"rows {rows} (before {t.rows})")
        t.rows = rows
        return res

    def clicks(self, name, send_s, measured):
        if measured:
            self.quiet()
        batches = self.batch_rows(self.gw)
        res = self.wrk.run(f"gateway-{name}", self.gw.url, os.path.join(WRK_DIR, "click.lua"),
                           {"path": self.click_path, "dest": self.s.click_destination}, send_s,
                           sampler=self.sampler(self.gw) if measured else None)
        res["rows_per_statement"] = self.rows_per_statement(self.gw, batches, "clicks")
        self.click_rows += res["ok"]
        rows = self.pg.settled_count(self.gw.db, f"select count(*) from clicks where link_code = '{self.click_code}'")
        extra = rows - self.click_rows
        ok = extra == 0 or (0 < extra <= res["unanswered"] and not self.s.strict)
        self.check(f"gateway clicks rows == 302s after {name}", ok and res["no_id"] == 0 and res["bad"] == 0,
                   f"{rows} rows vs {self.click_rows} x 302 with a clickId; {res['no_id']} redirects without a "
                   f"clickId, {res['bad']} malformed Locations; statuses {res['statuses']}")
        self.click_rows = rows
        return res

    def health(self, name, send_s, measured):
        if measured:
            self.quiet()
        return self.wrk.run(f"gateway-{name}", self.gw.url, os.path.join(WRK_DIR, "health.lua"), {}, send_s,
                            sampler=self.sampler(self.gw) if measured else None)

    def receiver_stats(self):
        status, _, body = procs.request("GET", self.receiver_url + "/stats")
        if status != 200:
            raise HarnessError(f"webhook receiver /stats -> {status}: {body}")
        return json.loads(body)

    def delivery_counts(self):
        row = self.pg.query(self.gw.db, "select count(*) filter (where status = 'succeeded'), "
                                        "count(*) filter (where status = 'pending'), "
                                        "count(*) filter (where status = 'dead') from deliveries")
        return [int(x) for x in row.split("|")]

    def write_events(self, name, events):
        """Attributed conversions of the bench affiliate (with what a click would have given them) and their
        conversion.created events, in one statement, as ingest writes them: each event goes to every
        webhook endpoint and fires every postback template, which renders its macros from the row."""
        tag = re.sub(r"[^a-z0-9]", "", name.lower())
        key = self.run_id + "_" + tag + "_"
        self.pg.query(self.gw.db,
                      "WITH c AS (INSERT INTO conversions (id, surface_id, external_id, event_type, gross_minor, "
                      "currency, occurred_at, click_id, status, affiliate_id, commission_minor, commission_currency, "
                      "approval, link_code, click_ip, click_subs) SELECT 'cv_bench_" + key + "' || lpad(g::text, 8, '0'), "
                      f"'{self.gw.surface}', 'dlv_{key}' || g, 'sale', 4999, 'USD', now(), 'ck_bench_' || g, "
                      f"'attributed', '{self.affiliate}', 499, 'USD', 'approved', 'bench', '203.0.113.7', "
                      "jsonb_build_object('sub1', 'bench & co') FROM generate_series(1, " + str(int(events)) + ") g "
                      "RETURNING id, surface_id, external_id, affiliate_id) "
                      "INSERT INTO events (id, type, surface_id, affiliate_id, data) SELECT 'evt_bench_" + key +
                      "' || right(c.id, 8), 'conversion.created', c.surface_id, c.affiliate_id, jsonb_build_object("
                      "'conversionId', c.id, 'surfaceId', c.surface_id, 'externalId', c.external_id, 'eventType', "
                      "'sale', 'grossMinor', 4999, 'currency', 'USD', 'status', 'attributed', 'affiliateId', "
                      "c.affiliate_id, 'commissionMinor', 499, 'commissionCurrency', 'USD', 'approval', 'approved') "
                      "FROM c")
        # The rows check of the postback phases counts every conversion: these are expected ones.
        self.gw.rows += int(events)
        self.deliveries_expected += events * self.s.destinations

    def drain_deliveries(self, name, r0, s0, expected, t0, samples=None):
        """Waits until the receiver saw every delivery of this batch and Postgres recorded them all;
        returns the time everything was recorded. samples collects (t, distinct received so far)."""
        # Slow is measured, not failed: give up only when nothing moves for STALL_TIMEOUT seconds.
        stall = self.s.stall_timeout
        last, moved = -1, time.monotonic()
        while True:
            st = self.receiver_stats()
            got = st["distinct"] - r0["distinct"]
            now = time.monotonic()
            if samples is not None:
                samples.append((now - t0, got))
            if got >= expected:
                break
            if got != last:
                last, moved = got, now
            if not self.gw.service.alive():
                raise HarnessError("the gateway died during the delivery run\n" + self.gw.service.log_tail())
            if now - moved > stall:
                log(f"deliveries stalled: {got} of {expected} received, none for {stall} s")
                break
            time.sleep(0.05)
        last, moved = -1, time.monotonic()
        while True:
            succeeded = self.delivery_counts()[0]
            now = time.monotonic()
            if succeeded - s0 >= expected:
                break
            if succeeded != last:
                last, moved = succeeded, now
            if now - moved > stall:
                log(f"delivery records stalled: {succeeded - s0} of {expected} recorded, none for {stall} s")
                break
            time.sleep(0.1)
        t1 = time.monotonic()
        st = self.receiver_stats()
        succeeded, pending, dead = self.delivery_counts()
        lost = self.deliveries_expected - st["distinct"]
        doubled = st["duplicates"]
        self.check(f"deliveries after {name}: 0 lost, 0 doubled, all recorded",
                   lost == 0 and doubled == 0 and succeeded == self.deliveries_expected and pending == 0
                   and dead == 0,
                   f"expected {self.deliveries_expected}, received {st['distinct']} distinct (lost {lost}), "
                   f"doubled {doubled}; Postgres succeeded {succeeded}, pending {pending}, dead {dead}")
        return t1

    def delivery(self, name, events, measured):
        s = self.s
        expected = events * s.destinations
        r0, s0 = self.receiver_stats(), self.delivery_counts()[0]
        if measured:
            self.quiet()
        batches = self.batch_rows(self.gw)
        sampler = self.sampler(self.gw, receiver=True)
        log(f"delivery [{name}]: {events} events x ({s.endpoints} webhook endpoints + {s.postbacks} affiliate "
            f"postback templates) = {expected} deliveries")
        self.write_events(name, events)
        t0 = time.monotonic()
        snap1 = sampler.snapshot()
        samples = []
        t1 = self.drain_deliveries(name, r0, s0, expected, t0, samples)
        snap2 = sampler.snapshot()
        e2e = expected / (t1 - t0)
        steady = None
        t10 = next((t for t, n in samples if n >= 0.1 * expected), None)
        t90 = next((t for t, n in samples if n >= 0.9 * expected), None)
        if t10 is not None and t90 is not None and t90 > t10:
            steady = 0.8 * expected / (t90 - t10)
        cpu = measure.cpu_delta(snap1, snap2)
        res = {"name": name, "deliveries": expected, "seconds": t1 - t0, "rate": e2e, "steady": steady,
               "first_s": next((t for t, n in samples if n > 0), None), "cpu": cpu,
               "us": measure.per_op_us(cpu, expected),
               "rows_per_statement": self.rows_per_statement(self.gw, batches, "delivery_attempts")}
        log(f"delivery [{name}]: {expected} in {t1 - t0:.2f} s = {e2e:.0f}/s end to end"
            + (f", {steady:.0f}/s steady" if steady else ""))
        return res

    def mixed(self, name, dlv_rate):
        """Postbacks while a delivery backlog drains, against the same backlog draining alone.

        The gateway's delivery rate depends on the backlog's size, so the solo figure is not the big
        delivery batch: a batch of exactly the mixed backlog's size is drained alone first and its
        deliveries counted over the same offsets from its outbox commit as the mixed window has
        (WINDOW_SKIP .. DURATION - 0.2 s), and a postback phase runs alone right before the mixed one:
        solo and mixed figures are taken minutes apart at most, as the machine's load drifts."""
        s = self.s
        # A small backlog drains faster than the big batch did: twice the need, at least 20,000, and
        # doubled (the solo drain measured again) while it ran out inside the window.
        backlog = s.mixed_deliveries or max(20000, 2 * dlv_rate * (s.duration + s.drain + 5))
        for attempt in range(4):
            events = max(1, math.ceil(backlog / s.destinations))
            expected = events * s.destinations
            r0, s0 = self.receiver_stats(), self.delivery_counts()[0]
            self.quiet()
            log(f"mixed [{name}]: {expected} deliveries alone, then the same backlog with postbacks")
            self.write_events(f"{name}-solo{attempt}", events)
            t0 = time.monotonic()
            time.sleep(max(0.0, t0 + s.skip - time.monotonic()))
            a = (time.monotonic(), self.receiver_stats()["distinct"])
            time.sleep(max(0.0, t0 + s.duration - 0.2 - time.monotonic()))
            b = (time.monotonic(), self.receiver_stats()["distinct"])
            solo_dlv = (b[1] - a[1]) / (b[0] - a[0])
            ran_out = b[1] - r0["distinct"] >= expected
            self.drain_deliveries(f"{name}-solo{attempt}", r0, s0, expected, t0)
            if not ran_out:
                break
            if s.mixed_deliveries or attempt == 3:
                self.invalid.append(f"{name}: the solo delivery backlog ran out inside the window")
                break
            backlog = 2 * max(backlog, solo_dlv * (s.duration + s.drain + 5))
            log(f"mixed [{name}]: the backlog ran out inside the window; again with {backlog:.0f}")

        solo = self.postbacks(self.gw, name + "-solo", s.duration, True)
        self.drop(solo["file"])
        solo_post = solo["rate"]

        file = self.gen_requests(self.gw, s.rate_hint * s.duration, name)
        r0, s0 = self.receiver_stats(), self.delivery_counts()[0]
        self.quiet()
        self.write_events(name, events)
        t0 = time.monotonic()
        res = self.postbacks(self.gw, name, s.duration, True, file=file, receiver=True,
                             on_snapshot=lambda i: self.receiver_stats(), settle=False)
        self.drop(file)
        got = res["hook2"]["distinct"] - res["hook1"]["distinct"]
        res["dlv_rate"] = got / res["window_s"]
        if res["hook2"]["distinct"] - r0["distinct"] >= expected:
            self.invalid.append(f"{name}: the delivery backlog ran out inside the window")
        self.drain_deliveries(name, r0, s0, expected, t0)
        res["backlog"] = expected
        res["post_solo"], res["dlv_solo"] = solo_post, solo_dlv
        res["score"] = res["rate"] / solo_post + (res["dlv_rate"] / solo_dlv if solo_dlv else 0)
        log(f"mixed [{name}]: postbacks {res['rate']:.0f}/s (solo {solo_post:.0f}), deliveries "
            f"{res['dlv_rate']:.0f}/s (solo, same backlog {solo_dlv:.0f}) -> {res['score']:.2f}")
        return res

    # -- heap ----------------------------------------------------------------------------------------

    def heap_after_gc_mb(self):
        pid = str(self.gw.service.pid)
        procs.run(["jcmd", pid, "GC.run"], timeout=60)
        info = procs.run(["jcmd", pid, "GC.heap_info"], timeout=60)
        m = re.search(r"used (\d+)K", info)
        if not m:
            raise HarnessError("unexpected jcmd GC.heap_info output: " + info[:300])
        return int(m.group(1)) / 1024

    # -- the whole run -------------------------------------------------------------------------------

    def warm_up(self):
        s, w = self.s, self.results["warmup"]
        targets = [self.gw] + ([self.ref] if self.ref else [])
        if "prefilled" in s.scenarios:
            # The empty database's gateway is the one of the other scenarios; warmed up here if they do not.
            pre = [self.filled] + ([] if "postback" in s.scenarios else [self.gw])
            for t in pre:
                self.probe_postback(t)
                if s.warmup:
                    w[f"{t.name}-prefilled"] = res = self.postbacks(t, "warmup-prefilled", s.warmup, False)
                    self.drop(res["file"])
        if "postback" in s.scenarios or s.profile in ("postback", "duplicate", "mixed"):
            for t in targets:
                self.probe_postback(t)
            if s.warmup:
                for t in targets:
                    w[f"{t.name}-postback"] = res = self.postbacks(t, "warmup", s.warmup, False)
                    if "duplicate" in s.scenarios:
                        w[f"{t.name}-duplicate"] = self.duplicates(t, "warmup-dup", res, max(2, s.warmup // 2),
                                                                   False)
                    self.drop(res["file"])
        if "click" in s.scenarios or s.profile in ("click", "health"):
            self.probe_click()
            if s.warmup:
                w["gateway-click"] = self.clicks("click-warmup", max(2, s.warmup // 2), False)
                w["gateway-health"] = self.health("health-warmup", max(2, s.warmup // 2), False)
        if self.receiver:
            # A whole backlog: after a fifth of one, the JIT still had the delivery path half compiled and
            # round 1 cost the JVM about 1.5 times the µs per delivery of round 2 (97 against 67).
            w["gateway-delivery"] = self.delivery("delivery-warmup", s.delivery_events, False)

    def maintain(self):
        """VACUUM ANALYZE of both databases between rounds: what autovacuum does on a default server.
        Without it (the machine's Postgres may run with autovacuum off) the gateway's updated tables
        bloat and its queries plan on statistics that were never gathered; the insert-only reference
        would not notice, so the comparison would be unfair to the gateway."""
        for t in [self.gw] + ([self.ref] if self.ref else []) + ([self.filled] if self.filled else []):
            self.pg.query(t.db, "VACUUM ANALYZE", timeout=1800)

    def one_round(self, r):
        s = self.s
        rd = {"gateway": {}, "reference": {}, "filled": {}}
        targets = [self.gw] + ([self.ref] if self.ref else [])
        self.maintain()
        if "postback" in s.scenarios:
            for t in targets:
                rd[t.name]["postback"] = self.postbacks(t, f"r{r}-postback", s.duration, True)
            if "duplicate" in s.scenarios:
                for t in targets:
                    rd[t.name]["duplicate"] = self.duplicates(t, f"r{r}-duplicate", rd[t.name]["postback"],
                                                              s.duration, True)
            for t in targets:
                self.drop(rd[t.name]["postback"]["file"])
        if "prefilled" in s.scenarios:
            # The same postbacks into the (nearly) empty database and into the prefilled one, a minute apart.
            for t in (self.gw, self.filled):
                rd[t.name]["prefilled"] = res = self.postbacks(t, f"r{r}-prefilled", s.duration, True)
                self.drop(res["file"])
        if "click" in s.scenarios:
            rd["gateway"]["click"] = self.clicks(f"r{r}-click", s.duration, True)
            rd["gateway"]["health"] = self.health(f"r{r}-health", s.duration, True)
        if "delivery" in s.scenarios:
            rd["gateway"]["delivery"] = self.delivery(f"r{r}-delivery", s.delivery_events, True)
        if "mixed" in s.scenarios:
            d = rd["gateway"]["delivery"]
            rd["gateway"]["mixed"] = self.mixed(f"r{r}-mixed", d["steady"] or d["rate"])
        return rd

    def profile(self):
        """One extra, unmeasured-for-targets gateway phase of the chosen scenario under JFR."""
        s, scen = self.s, self.s.profile
        pid = str(self.gw.service.pid)
        jfr = os.path.join(s.out, f"profile-{scen}.jfr")
        secs = s.profile_seconds
        if scen == "duplicate":
            src = self.postbacks(self.gw, "profile-src", secs, False)
        log(f"JFR recording of the gateway during {scen} -> {jfr}")
        procs.run(["jcmd", pid, "JFR.start", "name=bench", "settings=profile", f"filename={jfr}"])
        try:
            if scen == "postback":
                res = self.postbacks(self.gw, "profile-postback", secs, True)
                self.drop(res["file"])
            elif scen == "duplicate":
                res = self.duplicates(self.gw, "profile-duplicate", src, secs, True)
            elif scen == "click":
                res = self.clicks("profile-click", secs, True)
            elif scen == "health":
                res = self.health("profile-health", secs, True)
            elif scen == "delivery":
                res = self.delivery("profile-delivery", s.delivery_events, True)
            else:
                rounds = self.results["rounds"]
                dl = statistics.median(r["gateway"]["delivery"]["steady"] or r["gateway"]["delivery"]["rate"]
                                       for r in rounds) if rounds and "delivery" in s.scenarios else 5000
                res = self.mixed("profile-mixed", dl)
        finally:
            procs.run(["jcmd", pid, "JFR.stop", "name=bench"], check=False)
        if scen == "duplicate":
            self.drop(src["file"])
        import jfr_summary
        txt = os.path.join(s.out, f"profile-{scen}.txt")
        jfr_summary.write(jfr, txt, f"gateway, scenario {scen}, {secs} s, wrk -t{s.threads} -c{s.connections}")
        log(f"profile summary: {txt}")
        self.results["profile"] = {"scenario": scen, "jfr": jfr, "summary": txt, "phase": res}

    def soak(self):
        s = self.s
        rounds = self.results["rounds"]
        rate = s.soak_rate or s.soak_load * statistics.median(r["gateway"]["postback"]["rate"] for r in rounds)
        log(f"soak: {s.soak_seconds} s of postbacks at {rate:.0f}/s, heap after full GC every {s.soak_phase} s")
        heap = [(0, self.heap_after_gc_mb())]
        phases, elapsed, i = [], 0, 0
        while elapsed < s.soak_seconds:
            secs = min(s.soak_phase, s.soak_seconds - elapsed)
            if secs < 3:
                break
            res = self.postbacks(self.gw, f"soak-{i:02d}", secs, False, rate=rate)
            self.drop(res["file"])
            elapsed += secs
            i += 1
            heap.append((elapsed, self.heap_after_gc_mb()))
            phases.append({k: res[k] for k in ("rate", "p50_us", "p99_us", "ok", "non_ok")})
            log(f"soak {elapsed}/{s.soak_seconds} s: {res['rate']:.0f}/s, p99 {res['p99_us'] / 1000:.1f} ms, "
                f"heap after GC {heap[-1][1]:.1f} MB")
        mb = [h for _, h in heap[1:]] or [heap[0][1]]
        k = max(1, min(3, len(mb) // 3))
        growth = statistics.median(mb[-k:]) - statistics.median(mb[:k])
        flat = growth <= max(s.soak_flat_mb, 0.05 * statistics.median(mb[:k]))
        self.results["soak"] = {"rate_target": rate, "heap": heap, "phases": phases, "growth_mb": growth,
                                "flat": flat}

    def execute(self):
        s = self.s
        self.prepare()
        self.start_services()
        self.setup_gateway()
        t_start = time.monotonic()
        self.warm_up()
        for r in range(1, s.rounds + 1):
            log(f"===== round {r} of {s.rounds}")
            self.results["rounds"].append(self.one_round(r))
        if s.profile:
            self.profile()
        if "soak" in s.scenarios:
            self.soak()
        self.results["measure_seconds"] = time.monotonic() - t_start
        alive = self.gw.service.alive() and (not self.ref or self.ref.service.alive()) \
            and (not self.filled or self.filled.service.alive())
        self.check("gateway and reference alive at the end", alive, "" if alive else "a service exited")


def click_location_ok(dest, loc):
    """loc is dest with a non-empty clickId appended to its query (a fragment stays last)."""
    base, hash_, frag = dest.partition("#")
    frag = hash_ + frag
    sep = "?" if "?" not in base else ("" if base.endswith(("?", "&")) else "&")
    prefix = base + sep + "clickId="
    if not loc.startswith(prefix):
        return False
    rest = loc[len(prefix):]
    cid = re.match(r"[^&#]*", rest).group(0)
    return bool(cid) and rest[len(cid):] == frag


def fmt_env(d):
    return " ".join(f"{k}={v}" for k, v in sorted(d.items()))


def main(argv):
    build = "auto"
    for a in argv:
        if a == "--no-build":
            build = "never"
        elif a == "--build":
            build = "always"
        elif a in ("-h", "--help"):
            text = open(os.path.join(LT_DIR, "README.md")).read()
            m = re.search(r"<!-- usage -->\n```\n(.*?)```", text, re.S)
            print(m.group(1) if m else "see loadtest/README.md")
            return 0
        else:
            print(f"unknown argument: {a} (see --help)", file=sys.stderr)
            return 2

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    bench = None
    rc = 0
    try:
        s = Settings()
        bench = Bench(s, build)
        t0 = time.monotonic()
        bench.execute()
        bench.results["total_seconds"] = time.monotonic() - t0
        rc = report.finish(bench)
    except HarnessError as e:
        log(f"ERROR: {e}")
        rc = e.exit_code
    except SystemExit as e:
        log(f"interrupted (exit {e.code})")
        rc = e.code if isinstance(e.code, int) else 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        procs.stop_all(bench.s.stop_timeout if bench else 30)
        if bench:
            for f in bench.temp_files:
                if not bench.s.keep_files and os.path.exists(f):
                    os.remove(f)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
