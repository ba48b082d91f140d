"""Local runtime, CLI and shared domain code of the AML monitoring platform."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
