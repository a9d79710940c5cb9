"""Whether the Unsloth engine can run here, found without importing unsloth.

unsloth patches transformers, TRL and torch when it is imported, so importing it to find out whether
it is there would change how a later TRL run behaves. The probe asks the import system whether the
package exists (``importlib.util.find_spec``) and torch whether a CUDA device exists; torch is only
imported when unsloth is installed.
"""

from __future__ import annotations

import importlib.util
import sys

from aligntune_config import Availability

INSTALL_HINT = "pip install 'aligntune[unsloth]', or uv sync --extra unsloth"


def unsloth_installed() -> bool:
    """Whether the ``unsloth`` package can be imported (nothing is imported)."""
    if "unsloth" in sys.modules:
        return sys.modules["unsloth"] is not None
    try:
        return importlib.util.find_spec("unsloth") is not None
    except (ImportError, ValueError):  # a broken or spec-less entry
        return False


def cuda_available() -> bool:
    """Whether torch sees a CUDA device."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def unsloth_availability() -> Availability:
    """Available when unsloth is installed and a CUDA device is present; otherwise the reason."""
    if not unsloth_installed():
        return Availability(False, f"unsloth is not installed; {INSTALL_HINT}")
    if not cuda_available():
        return Availability(False, "unsloth is installed but no CUDA device is available (Unsloth runs on NVIDIA GPUs)")
    return Availability(True, "unsloth is installed and a CUDA device is available")
