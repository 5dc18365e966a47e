"""``make run``'s process manager: web, Celery worker and beat from Procfile.dev.

Honcho starts and stops the three together. Its grace period before SIGKILL is a
module constant of 5 seconds, shorter than a Celery worker's warm shutdown (which
waits for its timer thread), so Ctrl-C would kill the worker mid-job. Here the
worker gets the time a warm shutdown needs.
"""

import sys

import honcho.manager
from honcho.command import main

GRACE_SECONDS = 30


def run() -> None:
    honcho.manager.KILL_WAIT = GRACE_SECONDS  # type: ignore[attr-defined]
    main(["start", "-f", "Procfile.dev", *sys.argv[1:]])


if __name__ == "__main__":
    run()
