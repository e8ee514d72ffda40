# SPDX-License-Identifier: GPL-2.0-or-later
"""Fake peers for the CLI tests: a threaded Unix/TCP server that runs one
handler per connection, handlers that speak just enough of a daemon's
protocol to hand the plugin a secret (OpenVPN management password prompt,
WireGuard UAPI, PostgreSQL cleartext password), and hostile peers (silent,
garbage, endless) for the failure drills. Loopback and Unix sockets only."""
import os
import socket
import struct
import threading


class FakeServer:
    """Listens on a Unix socket path or 127.0.0.1:<free port> and runs
    handler(conn, server) in a thread per connection. `received` collects
    what handlers chose to record (e.g. the password the plugin sent)."""

    def __init__(self, handler, unix_path=None):
        self.handler = handler
        self.received = []
        self.connections = 0
        self._stop = threading.Event()
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix_path)
            os.chmod(unix_path, 0o666)
            self.address = unix_path
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
            self.address = f"127.0.0.1:{self.port}"
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self._threads = []
        self._accept = threading.Thread(target=self._loop, daemon=True)
        self._accept.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            t = threading.Thread(target=self._run, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _run(self, conn):
        try:
            conn.settimeout(30)
            self.handler(conn, self)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def stopped(self):
        return self._stop.is_set()

    def close(self):
        self._stop.set()
        self.sock.close()
        self._accept.join(2)
        for t in self._threads:
            t.join(2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_line(conn, limit=65536):
    buf = b""
    while not buf.endswith(b"\n") and len(buf) < limit:
        c = conn.recv(1)
        if not c:
            break
        buf += c
    return buf.decode(errors="replace").rstrip("\r\n")


def read_until(conn, marker, limit=65536):
    buf = b""
    while marker not in buf and len(buf) < limit:
        c = conn.recv(4096)
        if not c:
            break
        buf += c
    return buf


def read_exact(conn, n):
    """Exactly `n` bytes; OSError when the peer closes before."""
    buf = b""
    while len(buf) < n:
        c = conn.recv(n - len(buf))
        if not c:
            raise OSError("closed")
        buf += c
    return buf


# ---- protocol handlers that carry a secret ----

OPENVPN_GREETING = b">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n"


def openvpn_management(password, state_reply, status_reply):
    """Prompts for the management password, records what was sent, then
    answers `state` and `status 2` like OpenVPN 2.6 (lines end in CRLF)."""
    def handler(conn, server):
        conn.sendall(b"ENTER PASSWORD:")
        sent = read_line(conn)
        server.received.append(sent)
        if sent != password:
            conn.sendall(b"ERROR: bad password\r\n")
            return
        conn.sendall(b"SUCCESS: password is correct\r\n" + OPENVPN_GREETING)
        while True:
            cmd = read_line(conn)
            if cmd == "state":
                conn.sendall(state_reply)
            elif cmd.startswith("status"):
                conn.sendall(status_reply)
            else:
                return
    return handler


def wireguard_uapi(reply):
    """Answers one `get=1` with `reply` (which carries the private key)."""
    def handler(conn, server):
        server.received.append(read_until(conn, b"\n\n"))
        conn.sendall(reply)
    return handler


def postgres_cleartext_auth(server_message="password authentication failed for user \"monitor\""):
    """Refuses SSL, asks for a cleartext password, records it and fails the
    login the way PostgreSQL does (FATAL 28P01)."""
    def handler(conn, server):
        while True:
            (length,) = struct.unpack("!I", read_exact(conn, 4))
            body = read_exact(conn, length - 4)
            code = struct.unpack("!I", body[:4])[0]
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest
                conn.sendall(b"N")
                continue
            break  # StartupMessage
        conn.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
        kind = read_exact(conn, 1)
        (length,) = struct.unpack("!I", read_exact(conn, 4))
        pw = read_exact(conn, length - 4).rstrip(b"\0").decode(errors="replace")
        if kind == b"p":
            server.received.append(pw)
        fields = b"SFATAL\0VFATAL\0C28P01\0M" + server_message.encode() + b"\0\0"
        conn.sendall(b"E" + struct.pack("!I", len(fields) + 4) + fields)
    return handler


# ---- hostile peers ----

def silent(conn, server):
    """Accepts and never answers (reads and discards until closed)."""
    while not server.stopped():
        try:
            if not conn.recv(4096):
                return
        except socket.timeout:
            continue


def garbage(conn, server):
    """Answers anything with bytes that follow no protocol, then waits."""
    conn.sendall(bytes(range(256)) * 4 + b"\r\n\n\n" + b"\xff\x00" * 512)
    silent(conn, server)


def endless(conn, server):
    """Streams data forever (a line that never ends) until the client goes."""
    chunk = b"A" * 65536
    while not server.stopped():
        conn.sendall(chunk)


def endless_lines(conn, server):
    """Streams short lines forever: a reply that never reaches its end."""
    chunk = b"x,y,z\r\n" * 8192
    while not server.stopped():
        conn.sendall(chunk)


# ---- endless replies that keep to the protocol, so the client keeps reading ----

def _stream(conn, server, chunk):
    while not server.stopped():
        conn.sendall(chunk)


def openvpn_endless(conn, server):
    """Greets, then answers `state` with state lines that never reach END."""
    conn.sendall(OPENVPN_GREETING)
    read_line(conn)
    _stream(conn, server, b"1795314329,CONNECTED,SUCCESS,10.8.0.1,192.0.2.2,1194,,\r\n" * 4096)


def wireguard_endless(conn, server):
    """Answers `get=1` with key=value lines and never the closing blank line."""
    read_until(conn, b"\n\n")
    conn.sendall(b"public_key=" + b"ab" * 32 + b"\n")
    _stream(conn, server, b"rx_bytes=1\ntx_bytes=2\n" * 2048)


def _vici(ptype, name=b"", body=b""):
    payload = bytes([ptype]) + (bytes([len(name)]) + name if name else b"") + body
    return struct.pack(">I", len(payload)) + payload


def vici_endless(conn, server):
    """Confirms the event registration, then streams list-conn events forever
    instead of the command's response."""
    conn.recv(4096)
    conn.sendall(_vici(5))  # EVENT_CONFIRM
    event = _vici(7, b"list-conn", b"\x01\x04conn\x03\x05state\x00\x02up\x02")
    _stream(conn, server, event * 2048)


def vici_huge(conn, server):
    """Announces a packet far over the 512 KiB VICI limit and sends it."""
    conn.recv(4096)
    conn.sendall(struct.pack(">I", 64 * 1024 * 1024) + b"\x01")
    _stream(conn, server, b"\x00" * 65536)
