"""Start a real CityOps server for benchmarks: temp SQLite database, free port, API key."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent
SECRET = "benchmark-secret-key-0123456789"


def pg_cluster() -> Any:
    """Start a throwaway PostgreSQL cluster (the tests' tests/pgcluster.py: fsync off); its
    stop() removes it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from pgcluster import PostgresCluster

    return PostgresCluster().start()


def pg_dsn(url: str) -> str:
    """psycopg's connection string for a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def raw_pg_store(url: str, entity_ids: list[str], *, unique_history: bool) -> Any:
    """Open a psycopg connection to `url` holding the raw-engine baselines' two tables, the
    entities (e, with these ids, pk 1..n) and their history (h), committed."""
    import psycopg

    db = psycopg.connect(pg_dsn(url))
    db.execute(
        "CREATE TABLE e (pk serial PRIMARY KEY, entity_id text UNIQUE, attrs jsonb, "
        "modified_at timestamptz)"
    )
    db.execute(
        "CREATE TABLE h (id bigserial PRIMARY KEY, entity_pk int, attr_id int, "
        "observed_at timestamptz, value_num double precision, instance jsonb)"
    )
    unique = "UNIQUE " if unique_history else ""
    db.execute(f"CREATE {unique}INDEX hx ON h (entity_pk, attr_id, observed_at)")
    with db.cursor().copy("COPY e (entity_id, attrs) FROM STDIN") as copy:
        for eid in entity_ids:
            copy.write_row((eid, "{}"))
    db.commit()
    return db


def free_port() -> int:
    """Ask the OS for a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A `cityops serve` process on its own database; stop() kills it and removes the files."""

    def __init__(self, database_url: str | None = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="cityops-bench-")
        self.url = database_url or f"sqlite:///{self.dir}/bench.db"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "CITYOPS_DATABASE_URL": self.url,
            "CITYOPS_SECRET_KEY": SECRET,
            "CITYOPS_ENV": "test",
            "CITYOPS_LOG_LEVEL": "WARNING",
            "CITYOPS_DATA_DIR": self.dir,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.key = ""

    def cli(self, *args: str) -> str:
        """Run a cityops command against the benchmark database; return its stdout."""
        out = subprocess.run(
            [str(BIN / "cityops"), *args], env=self.env, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    def start(self) -> Server:
        """Migrate, create an integrator key, start the server and wait until it is ready."""
        self.cli("migrate")
        self.key = self.cli("create-api-key", "--name", "bench", "--role", "integrator")
        self.proc = subprocess.Popen(
            [str(BIN / "cityops"), "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("benchmark server did not start")

    def rss_mb(self) -> float:
        """Resident memory of the server process, in MB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        """Stop the server and delete its database."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)
