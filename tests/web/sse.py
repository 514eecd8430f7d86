"""Read a Server-Sent Events stream the way a browser's EventSource does (a small parser)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class SseMessage:
    """One message: its id, event name and data (empty name: a comment line)."""

    id: str | None = None
    event: str = "message"
    data_lines: list[str] = field(default_factory=list)
    comment: str | None = None

    @property
    def data(self) -> Any:
        """The data parsed as JSON."""
        return json.loads("\n".join(self.data_lines))


def messages(response: httpx.Response) -> Iterator[SseMessage]:
    """Yield messages (and comment lines, as messages with `comment` set) from a response."""
    current = SseMessage()
    for line in response.iter_lines():
        if line == "":
            if current.data_lines or current.id is not None:
                yield current
            current = SseMessage()
        elif line.startswith(":"):
            yield SseMessage(event="", comment=line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                current.id = value
            elif name == "event":
                current.event = value
            elif name == "data":
                current.data_lines.append(value)


def next_event(stream: Iterator[SseMessage], *names: str) -> SseMessage:
    """Return the next message (skipping comments), or the next one named in `names`."""
    for message in stream:
        if message.comment is not None:
            continue
        if not names or message.event in names:
            return message
    raise AssertionError(f"the stream ended before an event {names or ''}")
