"""Pure tests: no server, subprocess, network or PostgreSQL (an in-memory or temporary SQLite is fine)."""
