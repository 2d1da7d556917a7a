"""CPU accounting from /proc and wrk phases whose counts line up with the sampled window.

Groups of processes, CPU = utime + stime from /proc/<pid>/stat (all threads of a JVM included):
  jvm       the measured JVM (gateway or reference)
  pg        backends of the measured database (from their process titles: "postgres: [cluster: ]
            <user> <db> <host(port)> <state>"), i.e. the target's own connections
  pg_aux    postmaster and auxiliary processes (WAL writer, checkpointer, background writer, ...):
            shared by the cluster, charged to whoever runs; the work our commits cause lands here
  redis     the Redis server (shared by all its databases)
  wrk       the load generator
  receiver  the webhook receiver (delivery scenarios)
  pg_other  backends of other databases of the same cluster: not ours, shown to judge quietness
A process that appears between two snapshots is charged all its CPU (it was born in the window);
one that disappears is not charged (short-lived psql probes of the harness are therefore free).
"total" = jvm + pg + pg_aux + redis + wrk (+ receiver); "others" = the machine's busy time minus
total minus softirq (loopback TCP, not charged to any process): everything else running on the box.
"""
import os
import re
import subprocess
import time

from procs import HarnessError, log

TCK = os.sysconf("SC_CLK_TCK")
GROUPS = ("jvm", "pg", "pg_aux", "redis", "wrk", "receiver")


def proc_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12]), int(fields[1])  # utime+stime, ppid


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def machine_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4], v[5] + v[6]  # total, idle+iowait, irq+softirq


class Cluster:
    """The machine's Postgres cluster: its postmaster and a classification of its children."""

    def __init__(self, pg):
        data_dir = pg.query("postgres", "show data_directory")
        self.cluster_name = pg.query("postgres", "show cluster_name")
        self.postmaster = None
        try:
            with open(os.path.join(data_dir, "postmaster.pid")) as f:
                self.postmaster = int(f.readline())
        except (OSError, ValueError):
            for d in os.listdir("/proc"):  # not readable (not root): the process started with -D <data_dir>
                if d.isdigit() and f"-D {data_dir}" in cmdline(d) and proc_ticks(d) and "postgres:" not in cmdline(d):
                    self.postmaster = int(d)
        if not self.postmaster:
            raise HarnessError(f"cannot find the postmaster of {data_dir}")

    def children(self):
        """pid -> (ticks, database or None for auxiliary processes)."""
        out = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            t = proc_ticks(d)
            if t is None or t[1] != self.postmaster:
                continue
            out[int(d)] = (t[0], self.database_of(cmdline(d)))
        return out

    def database_of(self, title):
        if not title.startswith("postgres: "):
            return None
        rest = title[len("postgres: "):]
        if self.cluster_name and rest.startswith(self.cluster_name + ": "):
            rest = rest[len(self.cluster_name) + 2:]
        tok = rest.split()
        # a client backend: "<user> <db> <host(port)|[local]> <state>"
        if len(tok) >= 3 and ("(" in tok[2] or tok[2] == "[local]" or tok[2][:1].isdigit()):
            return tok[1]
        return None


class Sampler:
    """Takes CPU snapshots of the groups for one target (its JVM pid and its database)."""

    def __init__(self, cluster, redis_pid, jvm_pid, db, wrk_pid=None, receiver_pid=None):
        self.cluster, self.redis_pid, self.jvm_pid, self.db = cluster, redis_pid, jvm_pid, db
        self.wrk_pid, self.receiver_pid = wrk_pid, receiver_pid

    def snapshot(self):
        t = time.monotonic()
        pids = {}  # pid -> (group, ticks)
        for pid, g in ((self.jvm_pid, "jvm"), (self.redis_pid, "redis"), (self.wrk_pid, "wrk"),
                       (self.receiver_pid, "receiver")):
            if pid:
                tk = proc_ticks(pid)
                if tk:
                    pids[pid] = (g, tk[0])
        pids[self.cluster.postmaster] = ("pg_aux", (proc_ticks(self.cluster.postmaster) or (0,))[0])
        for pid, (ticks, db) in self.cluster.children().items():
            pids[pid] = ("pg_aux" if db is None else "pg" if db == self.db else "pg_other", ticks)
        return {"t": t, "pids": pids, "machine": machine_ticks()}


def cpu_delta(s1, s2):
    """CPU seconds per group between two snapshots, plus machine figures."""
    cpu = {g: 0 for g in GROUPS + ("pg_other",)}
    for pid, (g, ticks) in s2["pids"].items():
        before = s1["pids"].get(pid)
        cpu[g] += ticks - (before[1] if before and before[0] == g else 0)
    out = {g: v / TCK for g, v in cpu.items()}
    m1, m2 = s1["machine"], s2["machine"]
    out["machine_busy"] = ((m2[0] - m2[1]) - (m1[0] - m1[1])) / TCK
    out["machine_total"] = (m2[0] - m1[0]) / TCK
    out["softirq"] = (m2[2] - m1[2]) / TCK
    out["total"] = sum(out[g] for g in GROUPS)
    out["others"] = out["machine_busy"] - out["total"] - out["softirq"]
    out["window_s"] = s2["t"] - s1["t"]
    return out


def per_op_us(cpu, ops):
    """CPU microseconds per operation for each group (None when no operation was counted)."""
    if not ops:
        return None
    return {g: cpu[g] * 1e6 / ops for g in GROUPS + ("pg_other", "total", "softirq", "others")}


# ---- wrk --------------------------------------------------------------------------------------------

def parse_lt_result(text):
    m = None
    for m in re.finditer(r"^LT_RESULT (.*)$", text, re.M):
        pass
    if not m:
        return None
    out = {}
    for kv in m.group(1).split():
        k, _, v = kv.partition("=")
        out[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
    return out


def read_buckets(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                a, b = line.split()
                out.append((int(a), int(b)))
    except OSError:
        pass
    return out


def count_in(buckets, t1_ms, t2_ms, width=10):
    """Successes answered in [t1, t2): buckets whose middle lies inside."""
    return sum(n for b, n in buckets if t1_ms <= b + width / 2 < t2_ms)


class Wrk:
    """Runs one wrk phase. Settings: threads, connections, drain, timeout, skip (s of load before the
    window opens) and the output directory."""

    def __init__(self, threads, connections, drain, timeout, skip, out_dir):
        self.threads, self.connections, self.drain = threads, connections, drain
        self.timeout, self.skip, self.out_dir = timeout, skip, out_dir

    def run(self, name, url, script, args, send_s, sampler=None, on_snapshot=None, rate=0):
        """Sends for send_s seconds (+ drain). With a sampler, CPU is sampled from skip s after the first
        request until 0.2 s before sending stops, and ok answers are counted inside exactly that window.
        on_snapshot(i) is called right after snapshot i (1, 2) and its result kept as "hook1"/"hook2".
        Returns a dict: the LT_RESULT counters, window, rate, cpu, us_per_op..."""
        prefix = os.path.join(self.out_dir, name)
        for ext in (".start", ".buckets", ".txt"):
            if os.path.exists(prefix + ext):
                os.remove(prefix + ext)
        argv = ["wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{send_s + self.drain}s", "--timeout",
                self.timeout, "--latency", "-s", script, url, "--"] + [f"{k}={v}" for k, v in args.items()] + \
               [f"out={prefix}", f"send={send_s}", f"threads={self.threads}", f"rate={rate}"]
        log(f"wrk [{name}] {send_s}s + {self.drain}s drain{f', {rate:.0f}/s' if rate else ''}: {url}")
        with open(prefix + ".txt", "w") as out:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        res = {"name": name}
        try:
            start_ms = self._wait_start(p, prefix)
            if sampler is not None:
                sampler.wrk_pid = p.pid
                t1 = start_ms / 1000 + self.skip
                t2 = start_ms / 1000 + send_s - 0.2
                if t2 - t1 < 1:
                    raise HarnessError(f"measured window too short: DURATION must exceed WINDOW_SKIP + 1.2 s")
                _sleep_until(t1)
                s1 = sampler.snapshot()
                res["hook1"] = on_snapshot(1) if on_snapshot else None
                _sleep_until(t2)
                s2 = sampler.snapshot()
                res["hook2"] = on_snapshot(2) if on_snapshot else None
            try:
                rc = p.wait(send_s + self.drain + 90)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise HarnessError(f"wrk [{name}] did not finish")
        except BaseException:
            if p.poll() is None:
                p.kill()
                p.wait()
            raise
        text = open(prefix + ".txt").read()
        if rc != 0:
            raise HarnessError(f"wrk [{name}] exited {rc}: {text[-800:]}")
        r = parse_lt_result(text)
        if r is None:
            raise HarnessError(f"wrk [{name}]: no LT_RESULT line in {prefix}.txt")
        res.update(r)
        res["send_s"] = send_s
        res["rate_all"] = r["ok"] / send_s  # over the whole send window (no sampler)
        if sampler is not None:
            buckets = read_buckets(prefix + ".buckets")
            ok = count_in(buckets, s1["t"] * 1000, s2["t"] * 1000)
            cpu = cpu_delta(s1, s2)
            res.update(window_ok=ok, window_s=cpu["window_s"], rate=ok / cpu["window_s"], cpu=cpu,
                       us=per_op_us(cpu, ok))
        else:
            res["rate"] = res["rate_all"]
        return res

    @staticmethod
    def _wait_start(p, prefix):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with open(prefix + ".start") as f:
                    v = f.read().strip()
                if v:
                    return float(v)
            except OSError:
                pass
            if p.poll() is not None:
                raise HarnessError(f"wrk exited {p.returncode} before sending: {open(prefix + '.txt').read()[-800:]}")
            time.sleep(0.01)
        raise HarnessError("wrk did not start sending within 60 s")


def _sleep_until(t):
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)
