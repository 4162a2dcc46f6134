"""The demo: its deterministic world (demo_data), the seed that loads it, and the stand-ins for
Microsoft (demo/emulator.py, serving microsoft/emulator) and the card processor.

Production modules never import this package (import-linter checks it); the entry points
install its deployment profile (demo/wiring.py) when OPKALLA_DEMO is on.
"""
