"""A real SMTP server (aiosmtpd) on a free loopback port, started and stopped by the test."""

from __future__ import annotations

import socket

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """Down until start(); records every message it accepts."""

    def __init__(self, port: int) -> None:
        self.port, self.messages, self.controller = port, [], None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(envelope.content.decode("utf8", errors="replace"))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(monkeypatch):
    """The portal's SMTP settings point at this server's port; the server starts down."""
    server = SmtpServer(free_port())
    monkeypatch.setenv("OPKALLA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OPKALLA_SMTP_PORT", str(server.port))
    monkeypatch.setenv("OPKALLA_SMTP_STARTTLS", "0")
    yield server
    server.stop()
