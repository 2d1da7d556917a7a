"""A readable summary of a JFR recording with the JDK's own `jfr` tool (JDK 17 has `jfr print` and
`jfr summary`, not yet `jfr view`): hot methods (top frame of execution samples), hot packages, the
gateway's own method nearest each sample, threads, and allocation by class and by gateway method.
usage: python3 jfr_summary.py RECORDING.jfr OUT.txt [title]"""
import collections
import json
import re
import subprocess
import sys

OWN = "io.postback."
DEPTH = 24


def frames(ev):
    st = ev["values"].get("stackTrace") or {}
    return st.get("frames") or []


LAMBDA = re.compile(r"\$\$Lambda\$\d+(\+0x[0-9a-f]+)?(/0x[0-9a-f]+|/\d+)?")
RECORDER_THREADS = ("Attach Listener", "JFR ")  # the recording's own work, not the gateway's


def method_name(fr):
    m = fr.get("method") or {}
    t = (m.get("type") or {}).get("name", "?").replace("/", ".")
    return LAMBDA.sub("$$Lambda", f"{t}.{m.get('name', '?')}")


def package(name, parts=3):
    cls = name.rsplit(".", 1)[0]
    return ".".join(cls.split(".")[:parts])


def top(counter, total, n, unit=""):
    out = []
    for k, v in counter.most_common(n):
        out.append(f"  {100 * v / total:5.1f}%  {v:>8}{unit}  {k}")
    return out


def write(jfr, out_path, title=""):
    summary = subprocess.run(["jfr", "summary", jfr], capture_output=True, text=True).stdout
    raw = subprocess.run(["jfr", "print", "--json", "--stack-depth", str(DEPTH), "--events",
                          "jdk.ExecutionSample,jdk.ObjectAllocationSample", jfr],
                         capture_output=True, text=True, check=True).stdout
    events = json.loads(raw)["recording"]["events"]
    hot, pkgs, own, threads = (collections.Counter() for _ in range(4))
    alloc_cls, alloc_own = collections.Counter(), collections.Counter()
    samples = alloc_total = 0
    alloc_at = collections.Counter()
    for ev in events:
        fs = frames(ev)
        thread = (ev["values"].get("sampledThread") or ev["values"].get("eventThread") or {}).get("javaName") or "?"
        if not fs or thread.startswith(RECORDER_THREADS):
            continue
        names = [method_name(f) for f in fs]
        nearest = next((n for n in names if n.startswith(OWN) and "$$Lambda" not in n),
                       f"(no gateway frame in the top {DEPTH})")
        if ev["type"] == "jdk.ExecutionSample":
            samples += 1
            hot[names[0]] += 1
            pkgs[package(names[0])] += 1
            own[nearest] += 1
            threads[thread] += 1
        else:
            w = ev["values"].get("weight") or 0
            alloc_total += w
            alloc_cls[(ev["values"].get("objectClass") or {}).get("name", "?").replace("/", ".")] += w
            alloc_own[nearest] += w
            alloc_at[names[0]] += w
    L = [f"JFR profile summary: {title}", f"recording: {jfr}  (open it in JDK Mission Control for flame graphs)",
         "Lambda class names are shortened to $$Lambda; 'nearest gateway method' is the first io.postback frame"
         " below the sampled one.", ""]
    L += [f"CPU: {samples} execution samples of the gateway's threads (Java code on a CPU; JFR 'profile'"
          " settings sample every 10 ms per thread)", "",
          "Hot methods (top frame, self time):"] + top(hot, max(1, samples), 30)
    L += ["", "Hot packages (top frame):"] + top(pkgs, max(1, samples), 15)
    L += ["", f"Gateway method nearest to the sampled frame (within {DEPTH} frames):"] + top(own, max(1, samples), 25)
    L += ["", "Samples by thread:"] + top(threads, max(1, samples), 10)
    mb = collections.Counter({k: round(v / 1048576) for k, v in alloc_cls.items()})
    L += ["", f"Allocation (jdk.ObjectAllocationSample, weighted): {alloc_total / 1048576:.0f} MB sampled",
          "By class (MB):"] + top(mb, max(1, sum(mb.values())), 20, " MB")
    mba = collections.Counter({k: round(v / 1048576) for k, v in alloc_at.items()})
    L += ["", "By allocating method (MB):"] + top(mba, max(1, sum(mba.values())), 20, " MB")
    mbo = collections.Counter({k: round(v / 1048576) for k, v in alloc_own.items()})
    L += ["", "By nearest gateway method (MB):"] + top(mbo, max(1, sum(mbo.values())), 20, " MB")
    L += ["", "jfr summary:", summary]
    with open(out_path, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    write(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
