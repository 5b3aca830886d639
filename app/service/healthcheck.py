"""`python -m service.healthcheck`: exits 0 when the health path (HEALTH_CHECK_PATH, /health) answers 200. Slim images have no curl."""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8080')}{os.environ.get('HEALTH_CHECK_PATH', '/health')}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"health check failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
