"""Container health check: exit 0 when URL answers 200 with TEXT in its body, else 1.

    python deploy/healthcheck.py http://127.0.0.1:5005/ "Hello from Rasa"    # Rasa
    python deploy/healthcheck.py http://127.0.0.1:5055/health '"ok"'          # action server

The image has no curl; this needs only the standard library. docker-compose.yml runs it in each
container, and tests/test_container_start.py against the servers it starts.
"""

from __future__ import annotations

import sys
import urllib.request

TIMEOUT_SECONDS = 5


def healthy(url: str, text: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            body = response.read(65536).decode("utf-8", "replace")
            status = response.status
    except OSError as error:  # refused, timed out, HTTP error status
        return False, f"{url}: {error}"
    if status != 200 or text not in body:
        return False, f"{url}: HTTP {status}, {text!r} not in {body[:200]!r}"
    return True, f"{url}: HTTP {status}, {body.strip()[:80]}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    ok, message = healthy(*argv)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
