"""A readable summary of a JFR recording with the JDK's own `jfr` tool (JDK 17 has `jfr print` and
`jfr summary`, not yet `jfr view`): hot methods (top frame of execution samples), hot packages, the
gateway's own method nearest each sample, threads, and allocation by class and by gateway method.
usage: python3 jfr_summary.py RECORDING.jfr OUT.txt [title]"""
import collections
import json
import subprocess
import sys

OWN = "io.postback."
DEPTH = 24


def frames(ev):
    st = ev["values"].get("stackTrace") or {}
    return st.get("frames") or []


def method_name(fr):
    m = fr.get("method") or {}
    t = (m.get("type") or {}).get("name", "?")
    return f"{t}.{m.get('name', '?')}"


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
    for ev in events:
        fs = frames(ev)
        if not fs:
            continue
        nearest = next((method_name(f) for f in fs if method_name(f).startswith(OWN)), "(no gateway frame in the top "
                                                                                        f"{DEPTH})")
        if ev["type"] == "jdk.ExecutionSample":
            samples += 1
            name = method_name(fs[0])
            hot[name] += 1
            pkgs[package(name)] += 1
            own[nearest] += 1
            threads[((ev["values"].get("sampledThread") or {}).get("javaName") or "?")] += 1
        else:
            w = ev["values"].get("weight") or 0
            alloc_total += w
            alloc_cls[(ev["values"].get("objectClass") or {}).get("name", "?")] += w
            alloc_own[nearest] += w
    L = [f"JFR profile summary: {title}", f"recording: {jfr}", ""]
    L += [f"CPU: {samples} execution samples (Java code running on a CPU, every ~10-20 ms per thread)", "",
          "Hot methods (top frame, self time):"] + top(hot, max(1, samples), 30)
    L += ["", "Hot packages (top frame):"] + top(pkgs, max(1, samples), 15)
    L += ["", f"Gateway method nearest to the sampled frame (within {DEPTH} frames):"] + top(own, max(1, samples), 25)
    L += ["", "Samples by thread:"] + top(threads, max(1, samples), 10)
    mb = collections.Counter({k: round(v / 1048576) for k, v in alloc_cls.items()})
    L += ["", f"Allocation (jdk.ObjectAllocationSample, weighted): {alloc_total / 1048576:.0f} MB sampled",
          "By class (MB):"] + top(mb, max(1, sum(mb.values())), 20, " MB")
    mbo = collections.Counter({k: round(v / 1048576) for k, v in alloc_own.items()})
    L += ["", "By nearest gateway method (MB):"] + top(mbo, max(1, sum(mbo.values())), 20, " MB")
    L += ["", "jfr summary:", summary]
    with open(out_path, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    write(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
