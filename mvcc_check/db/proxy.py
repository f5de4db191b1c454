"""A loopback TCP proxy run by the tool, through which clients (or cluster members)
reach a server, so that the `partition` fault can cut them off:

- `blackhole`: nothing is forwarded (bytes wait, as TCP's would during a partition
  that heals before the connection times out); new connections wait too;
- `reset`: every connection is reset (RST) and new ones are reset at once;
- `delay`: every chunk is forwarded after a delay.

`heal()` returns to forwarding everything at once. Threads only: the proxy ends
with the tool. `via_proxy(target, port)` is the same DbTarget pointed at the proxy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import struct
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from mvcc_check.db.target import DbTarget

MODES = ("blackhole", "reset", "delay")
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


def _reset(sock: socket.socket) -> None:
    """Close with an RST rather than a FIN (SO_LINGER on, zero timeout). The shutdown
    of the reading side first wakes a thread blocked in recv() on it (close() alone
    would not, and the socket would live on as long as that recv)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


class Proxy:
    def __init__(self, upstream: tuple[str, int], *, delay_s: float = 0.2) -> None:
        self.upstream = upstream
        self.delay_s = delay_s
        self.mode = "pass"
        self.flowing = threading.Event()
        self.flowing.set()
        self.lock = threading.Lock()
        self.pairs: set[tuple[socket.socket, socket.socket]] = set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, name="mvcc-proxy", daemon=True).start()

    # -- faults ------------------------------------------------------------------------
    def partition(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown partition mode {mode!r}")
        with self.lock:
            self.mode = mode
            if mode == "blackhole":
                self.flowing.clear()
            pairs = list(self.pairs) if mode == "reset" else []
            self.pairs.difference_update(pairs)
        for a, b in pairs:
            _reset(a)
            _reset(b)

    def heal(self) -> None:
        with self.lock:
            self.mode = "pass"
            self.flowing.set()

    def close(self) -> None:
        self.closed = True
        self.heal()
        with contextlib.suppress(OSError):
            self.listener.close()
        with self.lock:
            pairs, self.pairs = list(self.pairs), set()
        for a, b in pairs:
            _reset(a)
            _reset(b)

    # -- forwarding ----------------------------------------------------------------------
    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._open, args=(client,), daemon=True).start()

    def _open(self, client: socket.socket) -> None:
        if self.mode == "reset":
            _reset(client)
            return
        self.flowing.wait()  # a blackhole holds new connections too
        try:
            server = socket.create_connection(self.upstream, timeout=10)
            server.settimeout(None)
        except OSError:
            _reset(client)
            return
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pair = (client, server)
        with self.lock:
            if self.mode == "reset" or self.closed:
                _reset(client)
                _reset(server)
                return
            self.pairs.add(pair)
        threading.Thread(target=self._pump, args=(client, server, pair), daemon=True).start()
        threading.Thread(target=self._pump, args=(server, client, pair), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, pair) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.flowing.wait()
                if self.mode == "delay":
                    time.sleep(self.delay_s)
                dst.sendall(data)
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
        except OSError:
            _reset(dst)
            _reset(src)
        with self.lock:
            self.pairs.discard(pair)


def via_proxy(target: DbTarget, port: int) -> DbTarget:
    """`target` with its host and port replaced by the proxy's (credentials kept)."""
    parts = urlsplit(target.url)
    auth = parts.netloc.rpartition("@")[0]
    netloc = (auth + "@" if auth else "") + f"127.0.0.1:{port}"
    url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return dataclasses.replace(target, url=url, host="127.0.0.1", port=port)


def upstream_of(target: DbTarget) -> tuple[str, int]:
    return (target.host or "127.0.0.1", target.port or DEFAULT_PORTS.get(target.kind, 0))
