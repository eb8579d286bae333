"""callcoach: offline coaching pipeline for sales calls.

``__version__`` is the one place the package version is written (pyproject.toml reads it from here).
"""

__version__ = "0.3.0"
