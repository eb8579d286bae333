"""Analysers: each reads the call (turns parsed once, plus sound evidence) and owns one part of the report.

Adding an analyser is one module plus one line in ``ANALYZERS``.
"""

from __future__ import annotations

from pipeline.analyzers import distraction, meeting

# name -> function(Call) -> that part of the report
ANALYZERS = {"meeting": meeting.analyze, "distraction": distraction.analyze}
