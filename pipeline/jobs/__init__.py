"""Running analyses as jobs: the worker code the nightly batch and the web queue share (``worker``) and
the executors that run it (``executors``: a local process pool, or inline)."""
