"""meshwatch's tests: tests/unit (pure) and tests/integration (real servers), helpers in tests/support."""
