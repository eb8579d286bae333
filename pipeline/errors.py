"""The one error type the CLI turns into a one-line message and a non-zero exit."""


class CallcoachError(Exception):
    """An expected failure caused by input or environment, reported without a traceback."""
