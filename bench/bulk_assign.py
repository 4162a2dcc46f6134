"""Benchmark: assign one license to 1,000 users, naive (one call per user, sequential)
versus batched (JSON $batch of 20, several batches in flight), against the emulator with
50 ms of added latency per HTTP request.

    .venv/bin/python bench/bulk_assign.py [--users 1000] [--latency-ms 50] [--concurrency 8]

The emulator runs in a separate process (as in production, the service is elsewhere) and
shares its SQLite file with this script, which generates the large tenant and sets faults.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opkalla_portal.microsoft import MicrosoftClients  # noqa: E402
from opkalla_portal.microsoft.emulator import EmulatorStore, generate_large_tenant  # noqa: E402
from opkalla_portal.microsoft.emulator.settings import emulator_settings  # noqa: E402
from opkalla_portal.microsoft.graph import LicenseChange  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(base: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            httpx.get(base + "/emulator/faults", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("emulator did not start")


def consumed(store: EmulatorStore, tenant: str) -> int:
    with store.read() as tx:
        return tx.list("sku", tenant)[0]["consumedUnits"]


async def run(args: argparse.Namespace, base: str, store: EmulatorStore) -> None:
    settings = emulator_settings(base, timeout_seconds=30)
    async with MicrosoftClients(settings) as clients:
        # Two tenants so each approach starts from unlicensed users.
        naive_t = generate_large_tenant(store, "00000000-0000-4000-8000-00000000a001", users=args.users)
        batch_t = generate_large_tenant(store, "00000000-0000-4000-8000-00000000b001", users=args.users)
        for t in (naive_t, batch_t):  # tokens first: sign-in is not what is measured
            await clients.graph(t["tenant_id"]).subscribed_skus()
        store.set_faults(latency_ms=args.latency_ms, services=["graph"])

        graph = clients.graph(naive_t["tenant_id"])
        started = time.perf_counter()
        for user_id in naive_t["user_ids"]:
            await graph.assign_license(user_id, add_sku_ids=[naive_t["sku_id"]])
        naive = time.perf_counter() - started

        graph = clients.graph(batch_t["tenant_id"])
        changes = [LicenseChange(u, [batch_t["sku_id"]]) for u in batch_t["user_ids"]]
        started = time.perf_counter()
        results = await graph.bulk_assign(changes, concurrency=args.concurrency)
        batched = time.perf_counter() - started
        store.clear_faults()

    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert consumed(store, naive_t["tenant_id"]) == args.users == consumed(store, batch_t["tenant_id"])
    print(f"users={args.users} latency={args.latency_ms:.0f}ms concurrency={args.concurrency}")
    print(f"naive (one call per user, sequential): {naive:8.2f} s")
    print(f"batched ($batch of 20, {args.concurrency} in flight):   {batched:8.2f} s")
    print(f"speed-up: {naive / batched:.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "bench.db")
        store = EmulatorStore(db)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "opkalla_portal.microsoft.emulator", "--port", str(port), "--db", db],
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_until_up(base)
            asyncio.run(run(args, base, store))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
