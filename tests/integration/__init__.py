"""Tests against real servers, subprocesses, PostgreSQL, Azurite, Chromium and Alertmanager."""
