"""The ``.npz`` file beside a generated module that holds its largest constants.

NumPy's own format: ``np.load`` reads it without pickles (safe to load), and the bytes
depend on the arrays only (zip entries carry a fixed date), so output stays
deterministic.
"""

from __future__ import annotations

import io

import numpy as np

from generator.core.ir import ModuleIR


def assets_bytes(module: ModuleIR) -> bytes | None:
    """The assets file's content (None when every constant fits in the source)."""
    if not module.assets:
        return None
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{asset.name: asset.array for asset in module.assets})
    return buffer.getvalue()
