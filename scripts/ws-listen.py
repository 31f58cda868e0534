#!/usr/bin/env python3
"""Listens on Fingertip's live inbox socket and prints each text message as one line.

    python3 scripts/ws-listen.py ws://127.0.0.1:8080/api/v1/ws ACCESS_TOKEN [SECONDS]

Standard library only (no websocket package needed): a minimal RFC 6455 client that answers
pings, prints text frames, and on a close frame prints {"type":"closed","code":N,"reason":"..."}
and exits. Used by scripts/crash-test.sh to watch a socket on one API process while another
process serves the HTTP calls.
"""

import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.parse


def send_frame(sock, opcode, payload=b""):
    # Client frames are masked (RFC 6455, 5.3).
    mask = os.urandom(4)
    header = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        header += bytes([0x80 | n])
    elif n < 65536:
        header += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        header += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(header + mask + masked)


def recv_exact(sock, n, buf):
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed")
        buf.extend(chunk)
    out = bytes(buf[:n])
    del buf[:n]
    return out


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    url = urllib.parse.urlparse(sys.argv[1])
    token = sys.argv[2]
    deadline = time.time() + (float(sys.argv[3]) if len(sys.argv) > 3 else 300)
    sock = socket.create_connection((url.hostname, url.port or 80), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    path = f"{url.path}?access_token={urllib.parse.quote(token)}"
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            print(json.dumps({"type": "handshake_failed"}), flush=True)
            return 1
        buf.extend(chunk)
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status:
        print(json.dumps({"type": "handshake_failed", "status": status.decode()}), flush=True)
        return 1
    buf = bytearray(rest)
    sock.settimeout(1)
    while time.time() < deadline:
        try:
            b0, b1 = recv_exact(sock, 2, buf)
        except socket.timeout:
            continue
        opcode, n = b0 & 0x0F, b1 & 0x7F
        sock.settimeout(5)
        if n == 126:
            (n,) = struct.unpack("!H", recv_exact(sock, 2, buf))
        elif n == 127:
            (n,) = struct.unpack("!Q", recv_exact(sock, 8, buf))
        payload = recv_exact(sock, n, buf)
        sock.settimeout(1)
        if opcode == 0x1:
            print(payload.decode(), flush=True)
        elif opcode == 0x9:
            send_frame(sock, 0xA, payload)
        elif opcode == 0x8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            reason = payload[2:].decode(errors="replace")
            print(json.dumps({"type": "closed", "code": code, "reason": reason}), flush=True)
            return 0
    send_frame(sock, 0x8, struct.pack("!H", 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
