# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs a crowd of plugin processes released at the same instant, the way a
monitoring host with a high check concurrency does (issue 25).

Every process is started behind a gate (a shell that waits for a FIFO to be
opened for writing, then execs /usr/bin/time and the plugin), so all of them
have started before the first one runs. While they run, /proc is sampled
for each plugin's open file descriptors. Bounded: at most `limit` seconds for
the whole crowd, then every process still running is killed (by its PID)."""
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from sitelink_test import parse_output

TIME = "/usr/bin/time"


@dataclass
class Member:
    key: object  # what the caller uses to judge the result
    rc: int
    stdout: str
    stderr: str
    elapsed: float  # from the gate's opening to the process's end
    rss_kb: int
    fds: int  # most file descriptors seen open at once (0 if never sampled)

    def __post_init__(self):
        self.service, self.state, self.summary, self.perf, self.lines = parse_output(self.stdout)

    def __str__(self):
        return f"[{self.key}] rc={self.rc} {self.elapsed:.2f}s rss={self.rss_kb}KiB fds={self.fds}\n{self.stdout}" \
               f"stderr: {self.stderr}"


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def run_crowd(commands, limit=120, env=None, prefix=None):
    """commands: [(key, argv)]; prefix: argv put before /usr/bin/time (e.g.
    ip netns exec NS). Returns [Member] in the order given and the seconds
    from the gate's opening to the last process's end."""
    work = tempfile.mkdtemp(prefix="sitelink-crowd-")
    gate = os.path.join(work, "gate")
    os.mkfifo(gate)
    procs = []
    try:
        for i, (key, argv) in enumerate(commands):
            rss = os.path.join(work, f"{i}.rss")
            cmd = ["sh", "-c", 'read _ < "$0" || true; exec "$@"', gate, TIME, "-f", "%M", "-o", rss] + list(argv)
            if prefix:
                cmd = list(prefix) + cmd
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                 env=env, text=True)
            procs.append((key, p, rss))
        _wait_gated(procs, work)
        start = time.monotonic()
        _open_gate(gate, procs)
        fds, ends = _sample_until_done(procs, start, limit)
        members = []
        for i, (key, p, rss) in enumerate(procs):
            out, err = p.communicate()
            members.append(Member(key, p.returncode, out, _strip_time(err), ends[i] - start, _read_rss(rss),
                                  fds[i]))
        return members, max(ends) - start
    finally:
        for _, p, _ in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


def _wait_gated(procs, work, limit=60):
    """Waits until every shell blocks in the FIFO's open (its wchan or state
    says so), so the gate releases them all at once."""
    end = time.monotonic() + limit
    pending = {p.pid for _, p, _ in procs}
    while pending and time.monotonic() < end:
        for pid in list(pending):
            try:
                with open(f"/proc/{pid}/wchan") as f:
                    wchan = f.read()
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                pending.discard(pid)
                continue
            if b"sh\0-c" in cmdline and ("partner" in wchan or "fifo" in wchan or "pipe" in wchan):
                pending.discard(pid)
        time.sleep(0.05)


def _open_gate(gate, procs):
    """Opens the FIFO for writing and closes it: every shell waiting in its
    open sees end-of-file and execs. A shell that reached the open late
    (after the close) is let through by the next round."""
    for _ in range(50):
        try:
            # Non-blocking: with no reader left, ENXIO instead of waiting.
            os.close(os.open(gate, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        time.sleep(0.02)
        waiting = False
        for _, p, _ in procs:
            try:
                with open(f"/proc/{p.pid}/cmdline", "rb") as f:
                    waiting = waiting or f.read().startswith(b"sh\0-c")
            except OSError:
                pass
        if not waiting:
            return


def _sample_until_done(procs, start, limit):
    fds = [0] * len(procs)
    ends = [None] * len(procs)
    while any(e is None for e in ends):
        now = time.monotonic()
        for i, (_, p, _) in enumerate(procs):
            if ends[i] is not None:
                continue
            if p.poll() is not None:
                ends[i] = now
                continue
            for child in _children(p.pid):  # /usr/bin/time's child is the plugin
                fds[i] = max(fds[i], _fd_count(child))
            if now - start > limit:
                p.kill()
        time.sleep(0.01)
    return fds, ends


def _read_rss(path):
    try:
        with open(path) as f:
            lines = [line for line in f.read().splitlines() if line.strip().isdigit()]
        return int(lines[-1]) if lines else 0
    except OSError:
        return 0


def _strip_time(err):
    """/usr/bin/time writes "Command exited with non-zero status N" to stderr
    even with -o; that line is not the plugin's."""
    return "\n".join(line for line in err.splitlines() if not line.startswith("Command exited with")) \
        + ("\n" if err.endswith("\n") and err.strip() else "")


class PgSessions:
    """`count` idle sessions held on a PostgreSQL server's unix socket as
    `user` (trust authentication, as the lab's postgres has on its socket):
    the slots that the server's other clients take (issue 25, a server full
    for a crowd). Closed on exit; each session is one forked backend."""

    def __init__(self, socket_path, count, user="postgres", database="postgres", timeout=60):
        self.socket_path, self.count, self.user, self.database = socket_path, count, user, database
        self.timeout = timeout
        self.socks = []

    def __enter__(self):
        import socket
        import struct
        end = time.monotonic() + self.timeout
        try:
            for _ in range(self.count):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.socks.append(s)
                s.settimeout(max(0.1, end - time.monotonic()))
                s.connect(self.socket_path)
                body = struct.pack("!I", 196608) + b"".join(
                    k + b"\0" + v.encode() + b"\0" for k, v in ((b"user", self.user), (b"database", self.database)))
                body += b"\0"
                s.sendall(struct.pack("!I", len(body) + 4) + body)
                self._until_ready(s, struct)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    @staticmethod
    def _until_ready(s, struct):
        """Reads messages until ReadyForQuery; an ErrorResponse fails."""
        buf = b""
        while True:
            while len(buf) < 5:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError("the server closed a held session")
                buf += chunk
            kind, n = buf[:1], struct.unpack("!I", buf[1:5])[0]
            while len(buf) < 1 + n:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError("the server closed a held session")
                buf += chunk
            msg, buf = buf[5:1 + n], buf[1 + n:]
            if kind == b"E":
                raise RuntimeError("the server refused a held session: " + msg.decode(errors="replace"))
            if kind == b"R" and struct.unpack("!I", msg[:4])[0] != 0:
                raise RuntimeError("a held session was asked for a password (the socket must trust the user)")
            if kind == b"Z":
                return

    def __exit__(self, *exc):
        for s in self.socks:
            try:
                s.sendall(b"X\0\0\0\4")  # Terminate
            except OSError:
                pass
            s.close()
        self.socks = []
