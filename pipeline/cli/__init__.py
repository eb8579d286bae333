"""The `callcoach` command: a thin shell over ``pipeline.analyze``, the batch, the store and the web app.

``_util`` holds the shared ``app``, options and helpers; each module below adds one command group."""

from pipeline.cli import analyze, batch, evaluate, models, web, workbench  # noqa: F401  (each registers its commands)
from pipeline.cli._util import app

__all__ = ["app"]
