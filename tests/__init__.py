"""The test suites are an entry point like the app module: they install the demo's deployment
profile, which follows OPKALLA_DEMO on every call (tests/conftest.py turns the demo on)."""

from opkalla_portal.demo.wiring import install

install()
