"""Progress lines for long work: one live line per stage on a terminal, plain lines in logs."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator, TextIO


class Progress:
    def __init__(self, total_stages: int, stream: TextIO | None = None, quiet: bool = False):
        self.total = total_stages
        self.index = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.times: dict[str, float] = {}
        self._current = ""
        self._last_plain = 0.0
        self._last_topic = ""
        self._pending = ""  # a throttled plain-mode update, printed before the next topic or stage end

    def _write(self, text: str, end: str = "\n") -> None:
        if not self.quiet:
            self.stream.write(text + end)
            self.stream.flush()

    @contextmanager
    def stage(self, name: str, what: str = "") -> Iterator["Progress"]:
        self.index += 1
        self._current = f"[{self.index}/{self.total}] {name:<9}"
        start = time.monotonic()
        self._write(f"{self._current} {what}".rstrip(), end="\r" if self.tty else "\n")
        try:
            yield self
        except BaseException:
            self._flush_pending()
            self._write(f"{self._current} FAILED after {time.monotonic() - start:.1f}s" + " " * 20)
            raise
        self._flush_pending()
        wall = time.monotonic() - start
        self.times[name] = round(wall, 3)
        self._write(f"{self._current} done in {wall:.1f}s" + " " * 40)

    def update(self, text: str) -> None:
        """Live detail of the running stage: overwrites the line on a terminal. In a log, updates on
        one topic (their first word: 'epoch', 'yosys', ...) are thinned to one per 5 s, and the
        last held-back one is still printed before the next topic or the end of the stage."""
        if self.tty:
            self._write(f"{self._current} {text}"[:118].ljust(118), end="\r")
            return
        topic = (text.split() or [""])[0].rstrip(":")
        if topic == self._last_topic and time.monotonic() - self._last_plain <= 5.0:
            self._pending = text
            return
        if topic != self._last_topic:
            self._flush_pending()
        self._pending = ""
        self._last_plain, self._last_topic = time.monotonic(), topic
        self._write(f"{self._current} {text}")

    def _flush_pending(self) -> None:
        if self._pending and not self.tty:
            self._write(f"{self._current} {self._pending}")
        self._pending = ""

    def note(self, text: str) -> None:
        self._write(f"{'':>{len(self._current)}}   {text}" if self._current else text)
