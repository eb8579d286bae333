"""Writing result files so that they appear only complete: write to a temporary name, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_all_or_nothing(files: dict[Path, str]) -> None:
    """Write every file, or none: all contents go to temporary files first, then each is renamed into place."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, content in files.items():
            handle = tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
            )
            with handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            staged.append((Path(handle.name), target))
        for temporary, target in staged:
            os.replace(temporary, target)
    finally:
        for temporary, _ in staged:
            if temporary.exists():
                temporary.unlink()
