"""Gunicorn hooks for the benchmarks that run a server (``gunicorn -c bench/_request_costs.py``):
each worker writes, for every request, its CPU time in the worker process and its service
time (from the moment the worker takes the request to the moment its answer is written),
one line per request in ``$BENCH_REQUEST_COSTS/<pid>.txt``.

The CPU time does not depend on how loaded the machine is, so it compares runs on a busy
host; the service time is the latency without the wait for a free worker, so the gap to
the client's latency is time spent queued. Not an application module: ``bench/run.py``
skips files whose name starts with ``_``.
"""

import os
import time
from typing import Any

_started: dict[int, tuple[float, float]] = {}
_files: dict[int, Any] = {}


def _file() -> Any:
    pid = os.getpid()
    if pid not in _files:
        folder = os.environ["BENCH_REQUEST_COSTS"]
        _files[pid] = open(os.path.join(folder, f"{pid}.txt"), "a", buffering=1)  # noqa: SIM115
    return _files[pid]


def pre_request(worker: Any, req: Any) -> None:
    _started[id(req)] = (time.process_time(), time.perf_counter())


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    started = _started.pop(id(req), None)
    if started is None:
        return
    cpu, wall = time.process_time() - started[0], time.perf_counter() - started[1]
    status = str(resp.status).split(" ", 1)[0]
    _file().write(f"{req.method} {req.path} {status} {cpu * 1000:.3f} {wall * 1000:.3f}\n")


def worker_exit(server: Any, worker: Any) -> None:
    for handle in _files.values():
        handle.close()


def read(folder: str) -> list[tuple[str, str, int, float, float]]:
    """Every request the workers recorded: (method, path, status, CPU ms, service ms)."""
    rows = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as handle:
            for line in handle:
                method, path, status, cpu, wall = line.split()
                rows.append((method, path, int(status), float(cpu), float(wall)))
    return rows
