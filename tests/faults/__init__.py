"""Faults: crashes (SIGKILL), a database down or slow, graceful shutdown, queued work that survives."""
