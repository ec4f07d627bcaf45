"""An SMTP sink in its own process for the dispatch benchmark: counts messages by Message-ID.

Run: python bench/_smtp_sink.py PORT RESULT.json ; on SIGTERM it writes the counts and exits.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
from collections import Counter

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class CountingHandler:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        header = (envelope.original_content or envelope.content).split(b"\r\n\r\n", 1)[0]
        match = MESSAGE_ID.search(header)
        with self.lock:
            self.counts[match.group(1).decode() if match else "(none)"] += 1
        return "250 OK"


def main() -> None:
    port, result_path = int(sys.argv[1]), sys.argv[2]
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    controller.stop()
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(dict(handler.counts), handle)


if __name__ == "__main__":
    main()
