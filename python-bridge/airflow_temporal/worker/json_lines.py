"""The protocol of the worker's long-lived Python helpers (``token_minter``, ``dag_run_listeners``,
``params_check``), each started by the worker JAR: one request line in on stdin, one JSON line out on stdout, until
EOF on stdin."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from typing import TextIO

log = logging.getLogger(__name__)


def replies_stream() -> TextIO:
    """The stream for the replies alone: the process's stdout, whose file descriptor 1 then points at stderr, so
    that whatever else prints (Airflow while it loads, plugins, listeners) goes to the worker's log and never
    between two replies."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return replies


def serve(answer: Callable[[str], dict], requests: Iterable[str], replies: TextIO) -> None:
    """Writes ``answer(line)`` for each request line; an answer that raises is ``{"error": ...}``, and the next
    request is served."""
    for line in requests:
        try:
            reply = answer(line)
        except Exception as e:  # the DB out of reach, a bad line: say so and serve the next one
            log.exception("cannot answer a request")
            reply = {"error": f"{type(e).__name__}: {e}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
