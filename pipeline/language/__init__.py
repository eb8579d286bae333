"""Language stages: the spaCy pipeline with the cue patterns (``nlp``, ``patterns/``), normalising times
(``timeplace``), text helpers (``text``) and the trained text classifiers at run time (``classifiers``)."""
