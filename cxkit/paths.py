"""Where the kit's own folders are (repository layout), without importing anything heavy."""

from pathlib import Path

__all__ = ["ROOT", "NOTEBOOK_DIR", "PARAMS_DIR", "REPORTS_DIR", "DEMO_DIR", "DEMO_PARAMS"]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
PARAMS_DIR = ROOT / "params"
REPORTS_DIR = ROOT / "reports"
DEMO_DIR = REPORTS_DIR / "data" / "demo"
DEMO_PARAMS = PARAMS_DIR / "demo.yaml"
