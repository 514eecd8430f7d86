"""A small HTTP/1.1 load generator for the benchmarks: keep-alive connections, requests
encoded before the clock starts, responses read by Content-Length.

httpx with a thread per connection spends about a millisecond of CPU per request; on a
2-core machine shared with the server that made the client, not the server, the measured
thing. This one sends the same requests (same headers, same authentication) from one
asyncio loop, so nearly all the CPU is left to the server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    """One response: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def encode(method: str, base: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """Encode one HTTP/1.1 keep-alive request."""
    host = urlsplit(base).netloc
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read(reader: asyncio.StreamReader) -> Reply:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", ""):
        raise RuntimeError("chunked responses are not supported by the load generator")
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Reply(int(status_line.split(" ", 2)[1]), headers, body)


async def _run(
    base: str, requests: Sequence[bytes], concurrency: int
) -> tuple[float, list[float], list[Reply]]:
    url = urlsplit(base)
    conns = [await asyncio.open_connection(url.hostname, url.port) for _ in range(concurrency)]
    latencies = [0.0] * len(requests)
    replies: list[Reply | None] = [None] * len(requests)
    next_index = 0

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal next_index
        while next_index < len(requests):
            i = next_index
            next_index += 1
            t0 = time.perf_counter()
            writer.write(requests[i])
            replies[i] = await _read(reader)
            latencies[i] = time.perf_counter() - t0

    began = time.perf_counter()
    await asyncio.gather(*(worker(r, w) for r, w in conns))
    elapsed = time.perf_counter() - began
    for _, writer in conns:
        writer.close()
    return elapsed, latencies, [r for r in replies if r is not None]


def run(
    base: str, requests: Sequence[bytes], concurrency: int
) -> tuple[float, list[float], list[Reply]]:
    """Send the requests over `concurrency` keep-alive connections, each waiting for its
    reply before sending the next; return (elapsed s, per-request latencies s, replies)."""
    return asyncio.run(_run(base, requests, concurrency))
