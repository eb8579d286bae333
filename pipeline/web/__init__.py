"""The web app (`callcoach serve`): reps upload recordings, coaches review reports and judge findings.

One concern per module: ``config`` (settings), ``accounts`` (users, passwords, sign-in sessions),
``uploads`` (streaming, limits, content sniffing, enqueueing), ``queue`` (the background worker process
that analyses uploads with the batch worker code), ``access`` (who may see which call), ``app`` (routes
and pages). Everything lives in the batch store (``pipeline.store``, schema v3 adds the web tables).
"""
