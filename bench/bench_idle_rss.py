"""Benchmark: resident memory of an idle `cityops serve` with the demo data loaded.

Seeds a temporary SQLite database with `cityops demo --no-serve` (the demo province, users,
modules), starts `cityops serve` on it, touches a few pages so the lazy imports happen, waits
until it is idle and reads its RSS (several samples, the largest reported). As a baseline on
the same machine it reads the RSS of a bare Python importing the same web stack (FastAPI,
SQLAlchemy, uvicorn). Prints one JSON line.

Target (issue "Context-data hub"): server RSS <= 300 MB idle with the demo running. Exits
non-zero when under target only with --enforce.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import BIN, Server  # noqa: E402

TARGET_MB = 300.0
BASELINE = (
    "import fastapi, sqlalchemy, uvicorn, httpx, orjson\n"
    "for line in open('/proc/self/status'):\n"
    "    if line.startswith('VmRSS:'): print(int(line.split()[1]) / 1024)\n"
)


def main() -> int:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--idle-s", type=float, default=5.0, help="wait before sampling")
    parser.add_argument("--enforce", action="store_true", help="exit 1 when over target")
    args = parser.parse_args()
    server = Server()
    try:
        t0 = time.perf_counter()
        server.cli("demo", "--no-serve")
        seed_s = time.perf_counter() - t0
        server.start()  # migrate (no-op), integrator key, serve
        headers = {"X-API-Key": server.key}
        with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
            for path in ("/", "/readyz", "/ngsi-ld/v1/entities?limit=100", "/ngsi-ld/v1/types"):
                client.get(path)
        time.sleep(args.idle_s)
        samples = []
        for _ in range(5):
            samples.append(server.rss_mb())
            time.sleep(0.2)
        rss = max(samples)
    finally:
        server.stop()
    out = subprocess.run(
        [str(BIN / "python"), "-c", BASELINE], capture_output=True, text=True, check=True
    )
    baseline = float(out.stdout.strip())
    ok = rss <= TARGET_MB
    print(
        json.dumps(
            {
                "benchmark": "server_idle_rss_demo",
                "server_rss_mb": round(rss, 1),
                "baseline_python_web_stack_rss_mb": round(baseline, 1),
                "target_rss_mb": TARGET_MB,
                "meets_target": ok,
                "demo_seed_s": round(seed_s, 1),
                "idle_s": args.idle_s,
            }
        )
    )
    return 0 if ok or not args.enforce else 1


if __name__ == "__main__":
    sys.exit(main())
