"""A real uvicorn server running the test app in a thread, for streaming (SSE) tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from pgcluster import free_port


class ServerThread:
    """uvicorn serving an app on a free loopback port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        """Start serving and wait until the server accepts connections."""
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture
def live_server(app: Any) -> Iterator[ServerThread]:
    """The test app served by a real uvicorn on a free port."""
    server = ServerThread(app).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings(settings: Any) -> Any:
    """Test settings with a fast heartbeat and small buffers, to see them at work."""
    from cityops.core.config import WebSettings

    web = WebSettings(
        live_heartbeat_s=0.4, live_buffer_size=10, live_changes_buffer_size=10, live_queue_size=10
    )
    return settings.model_copy(update={"web": web})
