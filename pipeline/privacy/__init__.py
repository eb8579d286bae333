"""Personal data: finding it in a call's text and replacing it (--redact)."""
