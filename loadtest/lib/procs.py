"""Processes, Postgres, Redis and HTTP plumbing of the benchmark harness (stdlib only).

Every process the harness starts is registered here and stopped by stop_all() (SIGTERM, then SIGKILL
after a grace period), which bench.py runs on every exit path, including Ctrl-C and SIGTERM.
"""
import http.client as httpclient
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time


class HarnessError(Exception):
    """A setup or run error: the run cannot go on. exit_code 1 unless said otherwise."""

    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.exit_code = exit_code


def log(msg):
    print(time.strftime("[%H:%M:%S] ") + msg, file=sys.stderr, flush=True)


# ---- tools ----------------------------------------------------------------------------------------

DEBIAN_PACKAGES = {"psql": "postgresql-client", "redis-cli": "redis-tools", "java": "openjdk-17-jdk-headless",
                   "jcmd": "openjdk-17-jdk-headless", "jfr": "openjdk-17-jdk-headless", "mvn": "maven",
                   "node": "nodejs", "openssl": "openssl", "wrk": "wrk", "curl": "curl"}


def ensure_tools(*cmds):
    """Installs missing commands from Debian (apt-get), as the machine's package manager."""
    missing = sorted({DEBIAN_PACKAGES.get(c, c) for c in cmds if shutil.which(c) is None})
    if not missing:
        return
    log("installing from Debian: " + " ".join(missing))
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL, check=False)
    r = subprocess.run(sudo + ["apt-get", "install", "-y", "-qq"] + missing, env=env, stdout=subprocess.DEVNULL)
    if r.returncode != 0 or any(shutil.which(c) is None for c in cmds):
        raise HarnessError("could not install " + " ".join(missing))


# ---- processes ------------------------------------------------------------------------------------

class Service:
    """A started process: name, Popen, log path."""

    def __init__(self, name, popen, log_path):
        self.name, self.popen, self.log_path = name, popen, log_path

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


_services = []


def start(name, argv, log_path, env=None, cwd=None):
    """Starts argv (a list, or a string split like a shell would) with stdout+stderr to log_path."""
    if isinstance(argv, str):
        argv = shlex.split(argv)
    log(f"starting {name}: {' '.join(argv)} (log: {log_path})")
    out = open(log_path, "wb")
    try:
        # Its own session: a Ctrl-C in the terminal reaches the harness only, which stops it in order.
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                             start_new_session=True)
    except OSError as e:
        raise HarnessError(f"cannot start {name}: {e}")
    finally:
        out.close()
    s = Service(name, p, log_path)
    _services.append(s)
    return s


def stop(service, timeout=30):
    """SIGTERM, wait up to timeout, then SIGKILL. Safe to call twice."""
    if service not in _services:
        return
    _services.remove(service)
    p = service.popen
    if p.poll() is None:
        log(f"stopping {service.name} (pid {p.pid}, SIGTERM)")
        try:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            log(f"{service.name} did not stop within {timeout}s, SIGKILL")
            p.kill()
            p.wait()
        except ProcessLookupError:
            pass


def stop_all(timeout=30):
    for s in reversed(list(_services)):
        stop(s, timeout)


def run(argv, check=True, timeout=None, env=None, cwd=None, input=None):
    """Runs a command to completion; returns stdout (text)."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, input=input)
    if check and r.returncode != 0:
        raise HarnessError(f"{' '.join(argv[:4])}... exited {r.returncode}: {r.stderr.strip()[-500:]}")
    return r.stdout


def port_in_use(port, host="127.0.0.1"):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_until(predicate, timeout, what, service=None, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if service is not None and not service.alive():
            raise HarnessError(f"{service.name} exited with status {service.popen.returncode} while {what}\n"
                               f"{service.log_tail()}(log: {service.log_path})")
        if time.monotonic() > deadline:
            tail = service.log_tail() if service else ""
            raise HarnessError(f"timed out after {timeout}s: {what}\n{tail}")
        time.sleep(interval)


# ---- Postgres / Redis -----------------------------------------------------------------------------

class Pg:
    def __init__(self, host, port, user):
        self.host, self.port, self.user = host, port, user

    def url(self, db):
        return f"postgresql://{self.user}@{self.host}:{self.port}/{db}"

    def query(self, db, sql, timeout=120):
        """Runs SQL; returns the unaligned, tuples-only output (stripped)."""
        return run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", self.host, "-p", str(self.port), "-U",
                    self.user, "-d", db, "-c", sql], timeout=timeout,
                   env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning")).strip()

    def count(self, db, sql):
        return int(self.query(db, sql) or 0)

    def run_file(self, db, path):
        run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port), "-U", self.user,
             "-d", db, "-f", path], env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))

    def recreate(self, db):
        if not db.replace("_", "a").isalnum() or not db[0].isalpha():
            raise HarnessError(f"database name must be a plain identifier: {db}")
        self.query("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        self.query("postgres", f"CREATE DATABASE {db}")

    def settled_count(self, db, sql, timeout=15):
        """Polls a count until it stops changing (3 equal reads 300 ms apart): lets in-flight work finish."""
        prev, stable, deadline = None, 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            cur = self.count(db, sql)
            if cur == prev:
                stable += 1
                if stable >= 2:
                    break
            else:
                stable = 0
            prev = cur
            time.sleep(0.3)
        return cur


def redis_cli(host, port, db, *args):
    return run(["redis-cli", "-h", host, "-p", str(port), "-n", str(db)] + [str(a) for a in args]).strip()


# ---- HTTP -----------------------------------------------------------------------------------------

def request(method, url, body=None, headers=None, timeout=10):
    """One request, no redirects followed. Returns (status, headers dict lower-case, body text);
    status 0 when the connection failed."""
    assert url.startswith("http://")
    hostport, _, path = url[len("http://"):].partition("/")
    host, _, port = hostport.partition(":")
    conn = httpclient.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        data = body.encode() if isinstance(body, str) else body
        conn.request(method, "/" + path, body=data, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace")
    except OSError as e:
        return 0, {}, str(e)
    finally:
        conn.close()


def http_json(method, url, payload=None, headers=None, expect=(200, 201)):
    h = {"content-type": "application/json"}
    h.update(headers or {})
    status, _, body = request(method, url, json.dumps(payload) if payload is not None else None, h)
    if status not in expect:
        raise HarnessError(f"{method} {url} -> {status}: {body[:300]}")
    return json.loads(body) if body else {}
