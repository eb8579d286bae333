"""Audio stages: decoding recordings, Whisper transcription, mono diarisation and sound evidence.

``decode`` (recording → Audio), ``asr`` (Audio → words per channel), ``diarize`` (mono words → two
voices), ``acoustics`` (Audio + turn times → sound evidence), ``whisper_models`` (locating and
assembling Whisper model files offline), ``formats`` (which file suffixes are recordings)."""
