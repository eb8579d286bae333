"""The nightly batch (`callcoach batch`): ``discover`` (what is in the archive), ``run`` (queue, executors,
crash recovery), ``progress`` (the progress bar and the summary)."""
