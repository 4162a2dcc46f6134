"""The Microsoft emulator served on a real port (shared with tests/microsoft)."""

from tests.microsoft.conftest import emulator_url, fresh, server, store  # noqa: F401
