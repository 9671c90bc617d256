from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Every formatted output in the suite is also formatted by Black alone and must match.
os.environ.setdefault("SCAFFOLD_FORMAT_CHECK", "1")

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

FULL = os.environ.get("SCAFFOLD_FULL") == "1"
REGENERATE = os.environ.get("SCAFFOLD_REGENERATE_GOLDEN") == "1"
