"""A stand-in for Microsoft's cloud (Graph, Partner Center, Entra ID sign-in, Azure OpenAI)
for demos and tests. See docs/microsoft.md.

    store = EmulatorStore("emulator.db")      # or ":memory:"; seeded from demo_data
    app = build_emulator_app(store)           # Starlette; mount app.routes in the portal
    store.reset()                             # back to the demo seed
    store.set_faults(latency_ms=50, throttle_probability=0.1, seed=7)
"""

from .app import build_emulator_app, emulator_config
from .faults import FaultConfig
from .large_tenant import generate_large_tenant
from .store import EmulatorStore

__all__ = ["EmulatorStore", "build_emulator_app", "emulator_config", "generate_large_tenant", "FaultConfig"]
