"""Paths of the checkout that tests read."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"
SCRIPTS_DIR = ROOT / "scripts"
# beside every checkout in development and CI, absent in a user's clone
SHARED_DIR = ROOT.parent / "shared"
