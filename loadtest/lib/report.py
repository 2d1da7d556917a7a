"""The benchmark's summary: side-by-side tables, ratios, targets and checks; summary.txt, results.json,
results.md (a dated block for loadtest/RESULTS.md). Ratios are taken per round (gateway and reference
measured minutes apart) and summarised as median (min-max) over the rounds."""
import datetime
import json
import os
import statistics
import subprocess

CPU_COLS = ("jvm", "pg", "pg_aux", "redis", "wrk", "total")
NOISE_COLS = ("others", "softirq", "pg_other")


def med(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def mmm(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return min(v), statistics.median(v), max(v)


def f0(x):
    return "-" if x is None else f"{x:.0f}"


def f1(x):
    return "-" if x is None else f"{x:.1f}"


def f2(x):
    return "-" if x is None else f"{x:.2f}"


def ms(us):
    return None if us is None else us / 1000


def get(rd, target, scen, key):
    r = rd.get(target, {}).get(scen)
    if r is None:
        return None
    v = r
    for k in key.split("."):
        v = v.get(k) if isinstance(v, dict) else None
        if v is None:
            return None
    return v


def ratio(a, b):
    return None if a is None or not b else a / b


class Report:
    def __init__(self, bench):
        self.b = bench
        self.s = bench.s
        self.rounds = bench.results["rounds"]
        self.lines = []

    def p(self, line=""):
        self.lines.append(line)

    def series(self, target, scen, key):
        return [get(rd, target, scen, key) for rd in self.rounds]

    def ratios(self, scen, key, a="gateway", b="reference"):
        return [ratio(get(rd, a, scen, key), get(rd, b, scen, key)) for rd in self.rounds]

    def row(self, label, values, fmt):
        cells = "".join(f"{fmt(v):>10}" for v in values)
        self.p(f"{label:<34}{cells}{fmt(med(values)):>10}")

    def header(self, title):
        self.p(f"--- {title}")
        self.p(f"{'':<34}" + "".join(f"{'round ' + str(i + 1):>10}" for i in range(len(self.rounds)))
               + f"{'median':>10}")

    def cpu_table(self, scen, unit, targets=("gateway", "reference")):
        self.p(f"CPU µs per {unit} (median of rounds)   " + "".join(f"{c:>8}" for c in CPU_COLS) + "   |"
               + "".join(f"{c:>9}" for c in NOISE_COLS))
        for t in targets:
            vals = [med(self.series(t, scen, f"us.{c}")) for c in CPU_COLS]
            noise = [med(self.series(t, scen, f"us.{c}")) for c in NOISE_COLS]
            if any(v is not None for v in vals):
                self.p(f"  {t:<36}" + "".join(f"{f1(v):>8}" for v in vals) + "   |"
                       + "".join(f"{f1(v):>9}" for v in noise))

    def target_rows(self):
        """(name, measured summary, target text, verdict or None when not measured, median)."""
        out = []
        s, b = self.s, self.b

        def add(name, values, goal, ok_fn, fmt=f2, aim=None):
            m = mmm(values)
            if m is None:
                out.append((name, "not measured", goal, None, None))
                return
            verdict = ok_fn(m[1])
            text = f"{fmt(m[1])} ({fmt(m[0])}-{fmt(m[2])})" if len(self.rounds) > 1 else fmt(m[1])
            if aim is not None and verdict:
                text += "  (aim " + ("met" if m[1] >= aim else "not met") + f": {aim})"
            out.append((name, text, goal, verdict, m[1]))

        add("postbacks/s gateway ÷ reference", self.ratios("postback", "rate"), ">= 0.75 (aim 0.90)",
            lambda v: v >= 0.75, aim=0.90)
        add("CPU per postback gateway ÷ reference", self.ratios("postback", "us.total"), "<= 1.40",
            lambda v: v <= 1.40)
        add("p99 gateway ÷ reference (64 connections)", self.ratios("postback", "p99_us"), "<= 1.50",
            lambda v: v <= 1.50)
        add("duplicates/s gateway ÷ reference", self.ratios("duplicate", "rate"), ">= 0.80", lambda v: v >= 0.80)
        add("clicks/s ÷ gateway health/live/s", [ratio(get(rd, "gateway", "click", "rate"),
                                                       get(rd, "gateway", "health", "rate")) for rd in self.rounds],
            ">= 0.50", lambda v: v >= 0.50)
        add("webhook deliveries/s end to end", self.series("gateway", "delivery", "rate"), ">= 10000 (absolute)",
            lambda v: v >= 10000, fmt=f0)
        add("mixed: post÷solo + deliveries÷solo", self.series("gateway", "mixed", "score"), ">= 0.90",
            lambda v: v >= 0.90)
        soak = b.results.get("soak")
        if soak:
            out.append(("heap after full GC flat over the soak",
                        f"{soak['heap'][1][1] if len(soak['heap']) > 1 else soak['heap'][0][1]:.1f} -> "
                        f"{soak['heap'][-1][1]:.1f} MB (growth {soak['growth_mb']:+.1f} MB)",
                        f"growth <= max({s.soak_flat_mb:g} MB, 5 %)", soak["flat"], soak["growth_mb"]))
        else:
            out.append(("heap after full GC flat over the soak", "not measured", "flat", None, None))
        return out

    def build(self):
        s, b = self.s, self.b
        notes = b.gateway_env_notes
        self.p("==================== BENCHMARK SUMMARY ====================")
        self.p(f"run        {b.run_id}  {datetime.datetime.utcnow():%Y-%m-%dT%H:%M:%SZ}, {s.rounds} round(s), "
               f"scenarios: {' '.join(s.scenarios)}")
        self.p(f"machine    {os.cpu_count()} cores, {cpu_model()}, load average at the end "
               f"{open('/proc/loadavg').read().split()[0]}")
        self.p(f"load       wrk -t{s.threads} -c{s.connections}, {s.duration} s per measured phase (+{s.drain} s "
               f"drain); window {s.skip:g} s after the first request until 0.2 s before sending stops")
        self.p(f"gateway    {b.gateway_cmd}  (commit {commit()})")
        if b.ref:
            self.p(f"reference  {b.ref_cmd}  (from {b.ref_source})")
        self.p(f"postgres   {s.pg_host}:{s.pg_port}, synchronous_commit {b.synchronous_commit}, autovacuum "
               f"{b.autovacuum}; the harness runs VACUUM ANALYZE on both databases before each round")
        self.p("benchmark sets: " + (fmt_env(notes.get("sets", {})) or "ports and credentials only"))
        self.p("benchmark raises limits: " + (fmt_env(notes.get("limits", {})) or "none"))
        if notes.get("inherited"):
            self.p("GATEWAY_* from the environment: " + fmt_env(notes["inherited"]))
        if self.rounds and any(get(rd, "gateway", "postback", "rate") for rd in self.rounds):
            self.header("postback: POST /v1/conversions, signed, unique externalIds")
            self.target_block("postback", "postbacks/s")
            self.cpu_table("postback", "accepted postback")
        if self.rounds and any(get(rd, "filled", "prefilled", "rate") for rd in self.rounds):
            self.header(f"prefilled: the same postbacks into the empty database ({s.pg_db}, 'gateway') and into "
                        f"{s.prefill_db} ('filled': {s.prefill_rows} clicks and {s.prefill_rows} conversions over "
                        f"{s.prefill_days} days)")
            if b.prefill_seconds:
                self.p(f"prefill took {b.prefill_seconds:.0f} s (set-based INSERT ... SELECT generate_series, then "
                       f"VACUUM ANALYZE)")
            self.row("empty: postbacks/s", self.series("gateway", "prefilled", "rate"), f0)
            self.row("filled: postbacks/s", self.series("filled", "prefilled", "rate"), f0)
            self.row("ratio filled ÷ empty", self.ratios("prefilled", "rate", "filled", "gateway"), f2)
            for t in ("gateway", "filled"):
                name = "empty" if t == "gateway" else t
                self.row(f"{name}: p50 ms", self.series(t, "prefilled", "p50_us"), lambda v: f1(ms(v)))
                self.row(f"{name}: p99 ms", self.series(t, "prefilled", "p99_us"), lambda v: f1(ms(v)))
                self.row(f"{name}: CPU µs per postback (total)", self.series(t, "prefilled", "us.total"), f0)
            self.row("ratio CPU per postback filled ÷ empty", self.ratios("prefilled", "us.total", "filled", "gateway"),
                     f2)
            self.cpu_table("prefilled", "postback (gateway = empty)", ("gateway", "filled"))
        if self.rounds and any(get(rd, "gateway", "duplicate", "rate") for rd in self.rounds):
            self.header("duplicate: replay of accepted postbacks (answered from Redis)")
            self.target_block("duplicate", "duplicates/s")
            self.cpu_table("duplicate", "duplicate")
        if self.rounds and any(get(rd, "gateway", "click", "rate") for rd in self.rounds):
            self.header("click: GET /c/{code} -> 302 (row committed); health: GET /health/live")
            self.row("gateway clicks/s", self.series("gateway", "click", "rate"), f0)
            self.row("gateway health/live req/s", self.series("gateway", "health", "rate"), f0)
            self.row("ratio clicks ÷ health", [ratio(get(rd, "gateway", "click", "rate"),
                                                     get(rd, "gateway", "health", "rate")) for rd in self.rounds], f2)
            self.row("click p50 ms", self.series("gateway", "click", "p50_us"), lambda v: f1(ms(v)))
            self.row("click p99 ms", self.series("gateway", "click", "p99_us"), lambda v: f1(ms(v)))
            self.row("health p50 ms", self.series("gateway", "health", "p50_us"), lambda v: f2(ms(v)))
            self.row("health p99 ms", self.series("gateway", "health", "p99_us"), lambda v: f2(ms(v)))
            self.row("gateway CPU µs per click (total)", self.series("gateway", "click", "us.total"), f1)
            self.row("gateway rows per click statement", self.series("gateway", "click", "rows_per_statement"), f1)
        if self.rounds and any(get(rd, "gateway", "delivery", "rate") for rd in self.rounds):
            self.header(f"delivery: {s.delivery_events} outbox events x ({s.endpoints} webhook endpoints + "
                        f"{s.postbacks} affiliate postback templates) -> local receiver")
            self.row("deliveries/s outbox -> recorded", self.series("gateway", "delivery", "rate"), f0)
            self.row("deliveries/s steady (10-90 %)", self.series("gateway", "delivery", "steady"), f0)
            self.row("seconds outbox -> all recorded", self.series("gateway", "delivery", "seconds"), f2)
            self.row("first delivery after (s)", self.series("gateway", "delivery", "first_s"), f2)
            self.row("attempt records per statement", self.series("gateway", "delivery", "rows_per_statement"), f1)
            self.row("reference postbacks/s, same round", self.series("reference", "postback", "rate"), f0)
            self.p("CPU µs per delivery (median)   " + "".join(
                f"{g}={f1(med(self.series('gateway', 'delivery', 'us.' + g)))}  "
                for g in ("jvm", "pg", "pg_aux", "redis", "receiver", "total", "others")))
        if self.rounds and any(get(rd, "gateway", "mixed", "score") for rd in self.rounds):
            self.header("mixed: postbacks while a delivery backlog drains (same window)")
            self.row("postbacks/s mixed", self.series("gateway", "mixed", "rate"), f0)
            self.row("postbacks/s solo (just before)", self.series("gateway", "mixed", "post_solo"), f0)
            self.row("deliveries/s mixed", self.series("gateway", "mixed", "dlv_rate"), f0)
            self.row("deliveries/s solo (same backlog)", self.series("gateway", "mixed", "dlv_solo"), f0)
            self.row("backlog (deliveries)", self.series("gateway", "mixed", "backlog"), f0)
            self.row("post÷solo + deliveries÷solo", self.series("gateway", "mixed", "score"), f2)
        soak = b.results.get("soak")
        if soak:
            self.p(f"--- soak: postbacks at {soak['rate_target']:.0f}/s for {s.soak_seconds} s, "
                   f"heap after full GC (jcmd GC.run + GC.heap_info)")
            self.p("heap MB    " + "  ".join(f"{t}s:{h:.1f}" for t, h in soak["heap"]))
            self.p("rate /s    " + "  ".join(f0(ph["rate"]) for ph in soak["phases"]))
            self.p("p99 ms     " + "  ".join(f1(ms(ph["p99_us"])) for ph in soak["phases"]))
        prof = b.results.get("profile")
        if prof:
            self.p(f"--- profile: JFR of the gateway during {prof['scenario']}: {prof['jfr']}")
            self.p(f"summary (hot methods, allocation): {prof['summary']}")
        self.p("--- targets (issue 10; gateway in its default configuration)")
        self.targets = self.target_rows()
        for name, text, goal, verdict, _ in self.targets:
            v = "-" if verdict is None else ("met" if verdict else "NOT MET")
            self.p(f"{name:<42} {text:<34} {goal:<24} {v}")
        self.p("--- checks")
        failed = [c for c in b.checks if not c[1]]
        self.p(f"{len(b.checks) - len(failed)} of {len(b.checks)} checks passed (rows == 200s per target and "
               f"phase, clicks == 302s, duplicates, deliveries: 0 lost / 0 doubled)")
        for name, _, detail in failed:
            self.p(f"CHECK FAILED  {name}: {detail}")
        for reason in b.invalid:
            self.p(f"RESULT INVALID  {reason}")
        t = b.results.get("total_seconds")
        if t:
            self.p(f"duration   {t / 60:.1f} min in all ({b.results.get('measure_seconds', 0) / 60:.1f} min of "
                   f"warm-up and measurement)")
        self.p("files      " + os.path.relpath(s.out) + "/{summary.txt,results.json,results.md,gateway.log,phases/}")
        self.p("===========================================================")

    def target_block(self, scen, unit):
        self.row(f"gateway {unit}", self.series("gateway", scen, "rate"), f0)
        if self.b.ref:
            self.row(f"reference {unit}", self.series("reference", scen, "rate"), f0)
            self.row("ratio gateway ÷ reference", self.ratios(scen, "rate"), f2)
        self.row("gateway p50 ms", self.series("gateway", scen, "p50_us"), lambda v: f1(ms(v)))
        self.row("gateway p99 ms", self.series("gateway", scen, "p99_us"), lambda v: f1(ms(v)))
        if self.b.ref:
            self.row("reference p50 ms", self.series("reference", scen, "p50_us"), lambda v: f1(ms(v)))
            self.row("reference p99 ms", self.series("reference", scen, "p99_us"), lambda v: f1(ms(v)))
            self.row("ratio p99", self.ratios(scen, "p99_us"), f2)
        self.row("gateway CPU µs per op (total)", self.series("gateway", scen, "us.total"), f0)
        if any(get(rd, "gateway", scen, "rows_per_statement") for rd in self.rounds):
            self.row("gateway rows per statement", self.series("gateway", scen, "rows_per_statement"), f1)
        if self.b.ref:
            self.row("reference CPU µs per op (total)", self.series("reference", scen, "us.total"), f0)
            self.row("ratio CPU per op", self.ratios(scen, "us.total"), f2)

    def markdown(self):
        """A dated block for loadtest/RESULTS.md."""
        s, b = self.s, self.b
        L = [f"### {datetime.date.today()} — commit {commit()} — `bash loadtest/run.sh`"
             f" ({s.rounds} rounds, wrk -t{s.threads} -c{s.connections}, {s.duration} s phases)", "",
             "| target | measured: median (min–max over rounds) | goal | verdict |", "| --- | --- | --- | --- |"]
        for name, text, goal, verdict, _ in self.targets:
            L.append(f"| {name} | {text} | {goal} | {'-' if verdict is None else ('met' if verdict else 'not met')} |")
        for scen, unit in (("postback", "accepted postback"), ("duplicate", "duplicate")):
            if not any(get(rd, "gateway", scen, "rate") for rd in self.rounds):
                continue
            L += ["", f"CPU µs per {unit}, median of rounds ({scen}):", "",
                  "| process | " + " | ".join(CPU_COLS + NOISE_COLS) + " | per s |",
                  "| --- |" + " ---: |" * (len(CPU_COLS) + len(NOISE_COLS) + 1)]
            for t in ("gateway", "reference"):
                if not any(get(rd, t, scen, "rate") for rd in self.rounds):
                    continue
                vals = [med(self.series(t, scen, f"us.{c}")) for c in CPU_COLS + NOISE_COLS]
                L.append(f"| {t} | " + " | ".join(f1(v) for v in vals) +
                         f" | {f0(med(self.series(t, scen, 'rate')))} |")
            p50 = {t: med(self.series(t, scen, "p50_us")) for t in ("gateway", "reference")}
            p99 = {t: med(self.series(t, scen, "p99_us")) for t in ("gateway", "reference")}
            L += ["", "p50 / p99 ms: " + ", ".join(f"{t} {f1(ms(p50[t]))} / {f1(ms(p99[t]))}" for t in p50)]
        if any(get(rd, "filled", "prefilled", "rate") for rd in self.rounds):
            L += ["", f"prefilled: CPU µs per accepted postback, median of rounds; empty = {s.pg_db}, filled = "
                      f"{s.prefill_db} ({s.prefill_rows} clicks and conversions over {s.prefill_days} days):", "",
                  "| database | " + " | ".join(CPU_COLS + NOISE_COLS) + " | per s | p50 ms | p99 ms |",
                  "| --- |" + " ---: |" * (len(CPU_COLS) + len(NOISE_COLS) + 3)]
            for t in ("gateway", "filled"):
                vals = [med(self.series(t, "prefilled", f"us.{c}")) for c in CPU_COLS + NOISE_COLS]
                L.append(f"| {'empty' if t == 'gateway' else 'filled'} | " + " | ".join(f1(v) for v in vals)
                         + f" | {f0(med(self.series(t, 'prefilled', 'rate')))}"
                         + f" | {f1(ms(med(self.series(t, 'prefilled', 'p50_us'))))}"
                         + f" | {f1(ms(med(self.series(t, 'prefilled', 'p99_us'))))} |")
            L += ["", "ratios filled ÷ empty (median of per-round ratios): postbacks/s "
                  + f2(med(self.ratios("prefilled", "rate", "filled", "gateway"))) + ", CPU per postback "
                  + f2(med(self.ratios("prefilled", "us.total", "filled", "gateway"))) + ", p99 "
                  + f2(med(self.ratios("prefilled", "p99_us", "filled", "gateway")))]
        return "\n".join(L) + "\n"


def finish(bench):
    r = Report(bench)
    r.build()
    s = bench.s
    text = "\n".join(r.lines) + "\n"
    print(text, end="")
    results = json.dumps({"settings": {k: v for k, v in vars(s).items()}, "results": bench.results,
                          "checks": bench.checks, "invalid": bench.invalid,
                          "targets": [t[:4] for t in r.targets]}, indent=1, default=str)
    # The latest run's files, and a copy kept per run: a quick check run after a long one would otherwise
    # overwrite the figures before they reach RESULTS.md.
    kept = os.path.join(s.out, "runs", bench.run_id)
    os.makedirs(kept, exist_ok=True)
    files = (("summary.txt", text), ("results.md", r.markdown()), ("results.json", results))
    for folder in (s.out, kept):
        for name, content in files:
            with open(os.path.join(folder, name), "w") as f:
                f.write(content)
    if any(not c[1] for c in bench.checks):
        return 3
    if bench.invalid:
        return 4
    if s.enforce and any(t[3] is False for t in r.targets):
        return 5
    return 0


def fmt_env(d):
    return " ".join(f"{k}={v}" for k, v in sorted(d.items()))


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def commit():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        h = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "src", "pom.xml"],
                               capture_output=True, text=True).stdout.strip()
        return h + ("+dirty" if dirty else "")
    except OSError:
        return "?"
