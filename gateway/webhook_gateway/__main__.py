"""Run the gateway: ``python -m webhook_gateway``, configured by GATEWAY_* variables."""

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
