"""A loopback HTTP server whose every answer a test writes: for trying the
client against what a hostile or broken server, a proxy or a gateway does.
Real sockets, no mocks."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from importer.settings import Connection

SECRET = "hostile-test-secret-42"
TOKEN = "tok-123456"

Answer = Callable[[Any, str, bytes], tuple[int, dict[str, str], Any]]


class Trickle:
    """A body sent ``per_write`` bytes at a time, ``every`` seconds apart,
    after ``delay`` seconds (headers included when ``headers_too``)."""

    def __init__(
        self, body: bytes, every: float = 1.0, per_write: int = 1, delay: float = 0.0,
        headers_too: bool = False,
    ) -> None:  # fmt: skip
        self.body, self.every, self.per_write = body, every, per_write
        self.delay, self.headers_too = delay, headers_too


class Server:
    """A loopback HTTP server whose answers a test writes: ``answer(handler,
    method, body) -> (status, headers, body)``, the body JSON, bytes or a
    :class:`Trickle`; it records every request (method, path, body, headers)."""

    def __init__(self, answer: Answer, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else b""
                server.requests.append((self.command, self.path, body))
                server.headers.append(dict(self.headers))
                status, headers, reply = answer(self, self.command, body)
                try:
                    self._reply(status, headers, reply)
                except OSError:  # the client hung up: it is allowed to
                    self.close_connection = True

            def _reply(self, status: int, headers: dict[str, str], reply: Any) -> None:
                trickle = reply if isinstance(reply, Trickle) else None
                if trickle is not None:
                    data = trickle.body
                    time.sleep(trickle.delay)
                elif isinstance(reply, bytes):
                    data = reply
                else:
                    data = json.dumps(reply).encode()
                head = f"HTTP/1.1 {status} X\r\n"
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    head += f"{k}: {v}\r\n"
                if "Content-Length" not in headers:
                    head += f"Content-Length: {len(data)}\r\n"
                raw = head.encode("latin-1") + b"\r\n"
                if trickle is not None and trickle.headers_too:
                    data, raw = raw + data, b""
                self.wfile.write(raw)
                self.wfile.flush()
                if trickle is None:
                    self.wfile.write(data)
                    return
                for i in range(0, len(data), trickle.per_write):
                    self.wfile.write(data[i : i + trickle.per_write])
                    self.wfile.flush()
                    time.sleep(trickle.every)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls is not None:  # HTTPS with the test's own certificate
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def saw_secret(self) -> bool:
        """Whether any request that reached this server carried the secret."""
        return any(SECRET.encode() in body or SECRET in path for _, path, body in self.requests)


def serve(answer: Answer) -> Server:
    return Server(answer)


def connection(api: Server, token_url: str = "") -> Connection:
    return Connection(api.url, token_url or f"{api.url}/connect/token", "client", SECRET, "tenant")


def api_answer(
    create: Callable[[Any], tuple[int, dict[str, str], Any]],
    get: Callable[[Any], tuple[int, dict[str, str], Any]] | None = None,
) -> Answer:
    """Tokens, empty lists for GETs (or ``get``'s answers), and ``create``'s
    answer to everything else."""

    def answer(h: Any, method: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if h.path.startswith("/connect/token"):
            return 200, {}, {"access_token": TOKEN, "expires_in": 3600}
        if method == "GET":
            return get(h) if get is not None else (200, {}, [])
        return create(h)

    return answer
