#!/usr/bin/env python3
"""Shares of a JFR recording's execution samples on the node's event loop (flotilla-io-*), and the
bytes it allocated per request. profile-paths.sh runs it; by hand: jfr-shares.py REC.jfr REQUESTS [TOP].

Inclusive share: the samples with one of a group's methods anywhere on the stack (groups may overlap:
socket writes happen inside the encoders' flush, say). Groups are the issue-16 buckets, matched on
substrings of class.method names; 'self' is the sample's leaf frame."""
import collections, json, subprocess, sys

rec, requests = sys.argv[1], int(sys.argv[2])
top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
LOOP = "flotilla-io-"
GROUPS = [
    ("upstream response head decode", ["HttpClientCodec$Decoder.decode"]),
    ("client response encode", ["ServerCodec$MethodAwareEncoder.encode"]),
    ("origin request encode", ["HttpClientCodec$Encoder.encode"]),
    ("request head decode", ["StrictRequestDecoder.decode"]),
    ("forwarding headers", ["ForwardingHeaders."]),
    ("pool acquire/release", ["ConnectionPool.acquire", "ConnectionPool.release"]),
    ("metrics", ["io.flotilla.node.metrics.", "NodeMetrics", "LatencyHistogram"]),
    ("timers (schedule/cancel)", ["AbstractScheduledEventExecutor.schedule", "ScheduledFutureTask.cancel",
                                  "Watchdog."]),
    ("channel construction/accept", ["EpollServerSocketChannel", "EpollSocketChannel.<init>",
                                      "AbstractEpollServerChannel"]),
    ("pipeline building", ["DefaultChannelPipeline.addLast", "FrontendInitializer"]),
    ("close", ["AbstractChannel$AbstractUnsafe.close"]),
    ("handler isSharable lookups", ["ChannelHandlerAdapter.isSharable"]),
    ("request head scan (StrictRequestDecoder.scan)", ["StrictRequestDecoder.scan"]),
    ("socket writes", ["writev", "Native.sendTo", "FileDescriptor.write", "doWriteMultiple", "writeBytes"]),
]


def jfr(events):
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "128", "--events", events, rec],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["recording"]["events"]


def name(frame):
    m = frame["method"]
    return (m["type"]["name"] + "." + m["name"]).replace("/", ".")


samples = [e for e in jfr("jdk.ExecutionSample")
           if (e["values"].get("sampledThread") or {}).get("javaName", "").startswith(LOOP)]
n = len(samples)
print(f"  event-loop samples: {n}")
if n:
    incl, self_ = collections.Counter(), collections.Counter()
    groups = collections.Counter()
    for s in samples:
        frames = [name(f) for f in (s["values"]["stackTrace"] or {}).get("frames", [])]
        if frames:
            self_[frames[0]] += 1
        for f in set(frames):
            incl[f] += 1
        for g, keys in GROUPS:
            if any(k in f for f in frames for k in keys):
                groups[g] += 1
    print("  groups (inclusive share of event-loop samples):")
    for g, _ in GROUPS:
        print(f"    {100.0 * groups[g] / n:5.1f}%  {g}")
    print(f"  top {top} self:")
    for f, c in self_.most_common(top):
        print(f"    {100.0 * c / n:5.1f}%  {f}")
    print(f"  top {top} inclusive (io.flotilla and netty.handler only):")
    shown = 0
    for f, c in incl.most_common():
        if "io.flotilla" in f or "netty.handler" in f:
            print(f"    {100.0 * c / n:5.1f}%  {f}")
            shown += 1
            if shown == top:
                break

alloc = collections.defaultdict(list)
for e in jfr("jdk.ThreadAllocationStatistics"):
    t = (e["values"].get("thread") or {}).get("javaName", "")
    if t.startswith(LOOP):
        alloc[t].append(e["values"]["allocated"])
total = sum(max(v) - min(v) for v in alloc.values())
print(f"  event-loop bytes allocated per request: {total / max(requests, 1):.0f}")
