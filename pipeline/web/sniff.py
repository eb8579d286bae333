"""What an uploaded file really is, measured in a child process: FFmpeg parses untrusted bytes there, so a
demuxer that hangs or crashes costs that process (killed after a timeout), never the web server.

The duration is the sum of the audio packets' own durations over the whole file, not the container's
header (a valid recording with trailing garbage announces minutes it does not have), and demuxing stops as
soon as it passes the server's limit (a 4 MB FLAC can hold six hours of silence).

``python -m pipeline.web.sniff PATH MAX_S`` prints one JSON line: ``{"format", "duration_s"}`` or
``{"refused": reason}``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SNIFF_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Sniffed:
    format_name: str
    duration_s: float
    over_limit: bool  # demuxing stopped because the audio passed the limit


class NotAudio(Exception):
    """The file is not a recording callcoach can decode; the message is the one-line reason."""


def measure(path: Path, max_s: float) -> Sniffed:
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise NotAudio("not a recording: the file has no audio")
            stream = container.streams.audio[0]
            # Opening is not enough (some demuxers accept almost anything): one audio frame must decode.
            for _frame in container.decode(stream):
                break
            else:
                raise NotAudio("not a recording: no audio could be decoded")
            format_name = container.format.name
        with av.open(str(path), metadata_errors="ignore") as container:  # again from the start, for the length
            return Sniffed(format_name, *_packet_duration_s(container, container.streams.audio[0], max_s))
    except NotAudio:
        raise
    except (av.error.FFmpegError, ValueError, OSError, UnicodeDecodeError, IndexError) as error:
        raise NotAudio("not a recording: callcoach cannot decode this file as audio") from error


def _packet_duration_s(container, stream, max_s: float) -> tuple[float, bool]:
    import av

    seconds = 0.0
    try:
        for packet in container.demux(stream):
            if packet.duration and packet.time_base:
                seconds += float(packet.duration * packet.time_base)
                if seconds > max_s:
                    return seconds, True
    except av.error.FFmpegError:
        pass  # damage after the audio (trailing garbage): the duration is what came before it
    if seconds == 0.0 and container.duration:  # a demuxer that does not time its packets
        seconds = container.duration / 1_000_000
    return seconds, seconds > max_s


def sniff(path: Path, max_s: float, timeout_s: float = SNIFF_TIMEOUT_S) -> Sniffed:
    """``measure`` in a child process; NotAudio for anything that is not a recording within the timeout."""
    try:
        done = subprocess.run([sys.executable, "-m", "pipeline.web.sniff", str(path), repr(max_s)],
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as error:
        raise NotAudio(f"not a recording: the file could not be read within {timeout_s:.0f} s") from error
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as error:  # the child crashed (a decoder fault): the file is the cause
        raise NotAudio("not a recording: callcoach cannot decode this file as audio") from error
    if "refused" in answer:
        raise NotAudio(answer["refused"])
    return Sniffed(answer["format"], answer["duration_s"], answer["over_limit"])


def main(argv: list[str]) -> int:
    path, max_s = Path(argv[0]), float(argv[1])
    try:
        found = measure(path, max_s)
    except NotAudio as error:
        print(json.dumps({"refused": str(error)}))
        return 0
    print(json.dumps({"format": found.format_name, "duration_s": found.duration_s, "over_limit": found.over_limit}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
