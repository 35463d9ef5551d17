"""A sandbox in its own process: what benchmarks and process tests need
(in-process, it would share the GIL with the client being measured)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from types import TracebackType
from typing import Any

from importer.sandbox.config import DEMO_CLIENT, DEMO_SECRET, DEMO_TENANT
from importer.settings import Connection


def demo_connection(url: str) -> Connection:
    """The connection of the sandbox's built-in demo client."""
    return Connection(url, f"{url}/connect/token", DEMO_CLIENT, DEMO_SECRET, DEMO_TENANT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SandboxProcess:
    """``vnimport sandbox OPTIONS`` on a free loopback port, until stopped."""

    def __init__(self, *options: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "importer", "sandbox", "--port", str(self.port), *options],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        self.banner = self.proc.stderr.readline()
        if f":{self.port}" not in self.banner:
            rest = self.proc.stderr.read()
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {self.banner}{rest}")
        # Drain what follows, so that a full pipe can never block the server.
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"
        self.connection = demo_connection(self.url)

    def post(self, path: str, body: Any) -> int:
        """POST with the demo client, sent again through injected faults."""
        from importer.targets.client import VismaClient

        client = VismaClient(self.connection, backoff=0.05)
        try:
            return client.call("POST", path, json=body, safe=True).status_code
        finally:
            client.session.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
