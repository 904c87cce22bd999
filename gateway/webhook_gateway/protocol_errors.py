"""Requests that aiohttp rejects as malformed HTTP, logged as the gateway's request lines.

aiohttp 3.14.5 responds with 400 before any handler runs to a request it cannot parse. Such
requests have conflicting Content-Length and Transfer-Encoding, a bad chunk size, an
obs-fold, a NUL byte, a header line over 8190 bytes, more than 128 headers, or TLS or HTTP/2
bytes.
``RequestHandler.handle_error`` in ``aiohttp/web_protocol.py`` then logs
``"Error handling request from %s"`` with ``request.remote`` as the argument and the parser's
HttpProcessingError as ``exc_info``: at DEBUG when it is the connection's first request and a
BadHttpMethod (TLS and other non-HTTP bytes), else as ERROR with a traceback. That logger is
the request handler's ``logger`` argument, which web.AppRunner passes on, so the gateway
replaces it with ProtocolErrorLog.

NOTE: a bad chunk size that arrives after the handler has started reading the body is not
delivered to the handler by aiohttp 3.14.5's C parser. The request then waits until the
client disconnects and is logged once as incomplete_body.
"""

import logging
from collections.abc import Callable
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.log import server_logger

BadRequestCallback = Callable[[str | None, HttpProcessingError], None]


class ProtocolErrorLog(logging.LoggerAdapter):
    """The ``logger`` argument of aiohttp's request handler.

    A record whose ``exc_info`` is an HttpProcessingError becomes a call of
    ``on_bad_request(peer, error)``, which counts the request and writes one rate-limited line.
    Every other record goes to the ``aiohttp.server`` logger unchanged, so an unexpected error
    in a handler is still logged with its traceback.
    """

    def __init__(self, on_bad_request: BadRequestCallback) -> None:
        super().__init__(server_logger)
        self.on_bad_request = on_bad_request

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        if isinstance(error, HttpProcessingError):
            # handle_error passes request.remote as the message's only argument.
            peer = args[0] if args and isinstance(args[0], str) else None
            self.on_bad_request(peer, error)
            return
        super().log(level, msg, *args, **kwargs)
