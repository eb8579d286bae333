"""Report files: the formats, writing them so that they appear only complete (write to a temporary name,
then rename), and cleaning up the temporary files of a writer that was killed."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.report.render import audio_data_uri, render_html, render_markdown

if TYPE_CHECKING:
    from pipeline.analyze import Analysis

FORMATS = ("json", "md", "html")
# write_all_or_nothing stages ".<name>.<random>.tmp" beside each target.
_STAGED_TEMP = re.compile(r"^\.(?P<target>.+\.(?:json|md|html))\.[^.]+\.tmp$")


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


def report_files(analysis: Analysis, base: Path, formats: Sequence[str], embed_audio: bool) -> dict[Path, str]:
    """The report files of one call, ``base`` + .json/.md/.html (what ``callcoach analyze --out`` writes)."""
    report = analysis.report
    files: dict[Path, str] = {}
    if "json" in formats:
        files[base.with_name(base.name + ".json")] = report.model_dump_json(indent=2) + "\n"
    if "md" in formats:
        files[base.with_name(base.name + ".md")] = render_markdown(report)
    if "html" in formats:
        audio_src = None
        if analysis.audio_path is not None:
            audio_src = audio_data_uri(analysis.audio_path) if embed_audio else None
            if audio_src is None:  # linked (or too big to embed): relative, so archive and reports can move together
                audio_src = Path(os.path.relpath(analysis.audio_path.resolve(), base.parent.resolve())).as_posix()
        files[base.with_name(base.name + ".html")] = render_html(report, audio_src)
    return files


def remove_stale_temp_files(out: Path, live_report_paths: set[str]) -> int:
    """Delete temporary report files left by a killed writer (not those of calls being written right now)."""
    removed = 0
    for path in out.rglob(".*.tmp"):
        match = _STAGED_TEMP.match(path.name)
        if not match:
            continue
        target = path.parent / match["target"]
        if str(target.with_suffix("")) in live_report_paths:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed
