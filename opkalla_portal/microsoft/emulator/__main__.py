"""Run the emulator on its own: ``python -m opkalla_portal.microsoft.emulator --port 8765``."""

from __future__ import annotations

import argparse
import json
import sys

from .app import build_emulator_app, emulator_config
from .store import EmulatorStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Microsoft cloud emulator (Graph, Partner Center, sign-in, OpenAI)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", default="emulator.db", help="SQLite file (':memory:' for a throwaway state)")
    parser.add_argument("--reset", action="store_true", help="re-seed the demo world before serving")
    parser.add_argument("--print-config", action="store_true", help="print base URLs and demo credentials as JSON")
    args = parser.parse_args(argv)
    base = f"http://{'localhost' if args.host in ('127.0.0.1', '0.0.0.0') else args.host}:{args.port}"
    if args.print_config:
        print(json.dumps(emulator_config(base), indent=2))
        return 0
    store = EmulatorStore(args.db)
    if args.reset:
        store.reset()
    app = build_emulator_app(store)
    config = emulator_config(base)
    for key in ("graph_url", "partner_center_url", "login_url", "openai_url", "admin_url"):
        print(f"{key:20} {config[key]}")
    sys.stdout.flush()
    try:
        import uvicorn
    except ImportError:  # Reflex ships granian; it loads the app by import path
        import os

        from granian import Granian
        from granian.constants import Interfaces

        os.environ["OPKALLA_EMULATOR_DB"] = args.db
        Granian(
            "opkalla_portal.microsoft.emulator.asgi:app", address=args.host, port=args.port, interface=Interfaces.ASGI
        ).serve()
        return 0
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
