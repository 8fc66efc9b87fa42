"""Reads `jfr print --json --events jdk.ThreadAllocationStatistics` from stdin and prints the bytes per
request the event loop allocated (the thread whose counter grew most). Arguments: the requests served,
and when the load started and ended (epoch seconds). The loop's idle rate, from the samples before the
load, is taken off the load's stretch."""
import datetime
import json
import sys

requests, start, end = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
samples = {}
for e in json.load(sys.stdin)["recording"]["events"]:
    v = e["values"]
    name = (v.get("thread") or {}).get("javaName") or "?"
    when = datetime.datetime.fromisoformat(v["startTime"][:26].rstrip("Z") + "+00:00").timestamp()
    samples.setdefault(name, []).append((when, int(v["allocated"])))
loop = max(samples, key=lambda t: max(a for _, a in samples[t]) - min(a for _, a in samples[t]))
points = sorted(samples[loop])
idle = [p for p in points if p[0] < start]
rate = (idle[-1][1] - idle[0][1]) / (idle[-1][0] - idle[0][0]) if len(idle) > 1 and idle[-1][0] > idle[0][0] else 0
after = [p for p in points if p[0] > end]
first, last = idle[-1] if idle else points[0], after[0] if after else points[-1]
busy = last[1] - first[1] - rate * max(0.0, (last[0] - first[0]) - (end - start))
print(f"event loop {loop}: {busy / requests:.0f} bytes allocated per request "
      f"({requests} requests; idle {rate:.0f} B/s taken off)")
