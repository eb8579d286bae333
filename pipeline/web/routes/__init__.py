"""The web app's routes, one module per area: ``signin`` (signing in and out), ``rep`` (a rep's calls and
uploads), ``call`` (one call: page, report, audio, a coach's judgements), ``coach`` (dashboard, team view,
feedback export). Routes that touch SQLite are plain ``def``: FastAPI runs them off the event loop."""
