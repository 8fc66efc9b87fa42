"""The origin behind the fleet in the container tests and the compose example.

GET /cached/NAME answers with Cache-Control: public, max-age=300; any other path with no-store.
Every answer names this container and the request's path; GET /_stats answers the number of
requests received per path as JSON, so a test can tell a cache hit from an origin fetch.
"""
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}
lock = threading.Lock()
name = socket.gethostname()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/_stats":
            with lock:
                self.answer(200, json.dumps(counts).encode(), "application/json", "no-store")
            return
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
        cache = "public, max-age=300" if self.path.startswith("/cached/") else "no-store"
        self.answer(200, f"{self.path} from {name}\n".encode(), "text/plain", cache)

    def answer(self, status, body, kind, cache):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler).serve_forever()
