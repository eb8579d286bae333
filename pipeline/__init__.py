"""callcoach: offline coaching pipeline for sales calls."""

__version__ = "0.1.0"
