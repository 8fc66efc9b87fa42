"""WebSocket over HTTP/2 (RFC 8441) with hyper-h2, an HTTP/2 implementation independent of Netty.

Usage: hyper_h2_client.py PORT PATH. Connects with h2c prior knowledge, reads the server's SETTINGS,
opens an extended CONNECT stream, sends one masked text frame, reads the echo, closes with 1000.
Prints one line per step for WebSocketOverHttp2Test to check.
"""
import os
import socket
import struct
import sys

import h2.config
import h2.connection
import h2.events

port, path = int(sys.argv[1]), sys.argv[2]
sock = socket.create_connection(("127.0.0.1", port), timeout=10)
conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
conn.initiate_connection()
sock.sendall(conn.data_to_send())
received = bytearray()
state = {"settings": False, "status": None, "ended": False}


def step(done):
    """Reads and handles events until done() holds."""
    while not done():
        data = sock.recv(65536)
        if not data:
            raise SystemExit("connection closed")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RemoteSettingsChanged):
                state["settings"] = True
            elif isinstance(event, h2.events.ResponseReceived):
                state["status"] = dict(event.headers)[":status"]
            elif isinstance(event, h2.events.DataReceived):
                received.extend(event.data)
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                state["ended"] = True
        pending = conn.data_to_send()
        if pending:
            sock.sendall(pending)


def masked(opcode, payload):
    mask = os.urandom(4)
    head = bytes([0x80 | opcode, 0x80 | len(payload)])  # short payloads only
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def next_frame():
    """One unmasked frame from the server: (opcode, payload)."""
    step(lambda: len(received) >= 2 and len(received) >= 2 + (received[1] & 0x7F))
    opcode, length = received[0] & 0x0F, received[1] & 0x7F
    payload = bytes(received[2:2 + length])
    del received[:2 + length]
    return opcode, payload


step(lambda: state["settings"])
print("enable_connect_protocol", conn.remote_settings.enable_connect_protocol)
stream = conn.get_next_available_stream_id()
conn.send_headers(stream, [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                           (":path", path), (":authority", "localhost"), ("sec-websocket-version", "13")])
sock.sendall(conn.data_to_send())
step(lambda: state["status"] is not None)
print("status", state["status"])
conn.send_data(stream, masked(0x1, b"hello from hyper-h2"))
sock.sendall(conn.data_to_send())
opcode, payload = next_frame()
print("echo", opcode, payload.decode())
conn.send_data(stream, masked(0x8, struct.pack(">H", 1000)))
sock.sendall(conn.data_to_send())
opcode, payload = next_frame()
print("closed", opcode, struct.unpack(">H", payload[:2])[0])
step(lambda: state["ended"])
print("stream ended")
