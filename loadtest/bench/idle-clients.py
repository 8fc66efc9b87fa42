#!/usr/bin/env python3
"""Holds N idle keep-alive client connections to a proxy on loopback and reports what they cost it.

    idle-clients.py --port 20300 --pid PID [--count 10000] [--path /small] [--jvm] [--hold 0]

Each connection makes one request (read to the end of its response, so it is a real keep-alive
client between requests) and is then left idle. Source addresses rotate over 127.0.0.2..127.0.0.9, so
ephemeral ports never run short. Before and after, the server's resident memory (VmRSS of PID and its
children, e.g. NGINX's workers) is read; with --jvm, the live heap after a full collection too
(jcmd GC.run, GC.heap_info). Prints bytes per idle connection. Bounded: it never opens more than
--count connections, gives up after --timeout seconds, and closes everything it opened on exit.
"""
import argparse
import re
import socket
import subprocess
import sys
import time


def rss_kb(pid):
    pids = [pid] + children(pid)
    total = 0
    for p in pids:
        with open(f"/proc/{p}/status") as f:
            m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
            total += int(m.group(1)) if m else 0
    return total


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def live_heap_kb(pid):
    subprocess.run(["jcmd", str(pid), "GC.run"], check=True, capture_output=True)
    out = subprocess.run(["jcmd", str(pid), "GC.heap_info"], check=True, capture_output=True, text=True).stdout
    # ParallelGC prints "PSYoungGen total 123K, used 45K" and "ParOldGen total ..., used ..."
    return sum(int(u) for u in re.findall(r"used (\d+)K", out.split("Metaspace")[0]))


def tcp_mem_pages():
    with open("/proc/net/sockstat") as f:
        return int(re.search(r"TCP:.* mem (\d+)", f.read()).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--path", default="/small")
    ap.add_argument("--jvm", action="store_true")
    ap.add_argument("--hold", type=float, default=0, help="seconds to keep them open after measuring")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    if not 0 < args.count <= 60000:
        sys.exit("--count must be 1..60000")
    request = f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n\r\n".encode()
    heap0 = live_heap_kb(args.pid) if args.jvm else None
    time.sleep(0.5)
    rss0, tcp0 = rss_kb(args.pid), tcp_mem_pages()
    socks = []
    deadline = time.monotonic() + args.timeout
    started = time.monotonic()
    try:
        for i in range(args.count):
            if time.monotonic() > deadline:
                sys.exit(f"gave up after {len(socks)} connections ({args.timeout} s)")
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(10)
            s.bind((f"127.0.0.{2 + i % 8}", 0))
            s.connect(("127.0.0.1", args.port))
            socks.append(s)
            s.sendall(request)
            read_response(s)
        opened = time.monotonic() - started
        time.sleep(1)
        heap1 = live_heap_kb(args.pid) if args.jvm else None
        time.sleep(0.5)
        rss1, tcp1 = rss_kb(args.pid), tcp_mem_pages()
        alive = sum(1 for s in socks if still_open(s))
        n = len(socks)
        print(f"connections={n} opened_in={opened:.1f}s still_open={alive}")
        print(f"rss_kb before={rss0} after={rss1} per_connection_bytes={(rss1 - rss0) * 1024 // n}")
        if args.jvm:
            print(f"live_heap_kb before={heap0} after={heap1} per_connection_bytes={(heap1 - heap0) * 1024 // n}")
        print(f"kernel_tcp_mem_pages before={tcp0} after={tcp1} (both ends of every loopback connection)")
        if args.hold:
            time.sleep(min(args.hold, 600))
    finally:
        for s in socks:
            s.close()


def read_response(s):
    """Reads one response with a Content-Length body (what the bench origin sends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(m.group(1)) if m else 0
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk


def still_open(s):
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
