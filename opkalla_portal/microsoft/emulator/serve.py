"""Serve the emulator on a free loopback port in a background thread (MSAL needs real HTTP):
for `cli doctor` in demo mode."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .app import build_emulator_app
from .store import EmulatorStore


@contextmanager
def serve_in_thread(store: EmulatorStore, host: str = "127.0.0.1") -> Iterator[str]:
    """Yield the emulator's base URL while it runs; stop it afterwards."""
    import uvicorn

    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(build_emulator_app(store), host=host, port=port, log_level="error", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the emulator did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
