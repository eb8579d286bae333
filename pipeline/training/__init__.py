"""Fitting callcoach's models from the data in ``models/training/``, and evaluating against labeled calls.

``data`` (where the training data is, digests), ``classifiers`` (the spaCy text classifiers),
``roles`` (the rep/customer decision), ``distraction`` (the fused distraction score), ``evaluate``
(`callcoach eval`), ``metrics`` (precision / recall / F1). Training depends on analysis, never the
reverse: the run-time side of each model lives in ``pipeline.analysis`` / ``pipeline.language``.
"""
