"""Where the tests find the repository's own files."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STANDARDS = ROOT / "tests" / "fixtures" / "standards"  # published contracts, copied with their licences
