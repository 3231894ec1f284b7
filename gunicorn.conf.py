"""gunicorn's settings file, read from the working directory: only what Counterpart needs of it.

With PROMETHEUS_MULTIPROC_DIR set, each worker keeps its metrics in files there and /metrics sums
them (common.metrics); a worker that exits is marked dead here so that its gauges stop counting.
Everything else (workers, threads, bind) stays on the command line (README, "Production").
"""

import os


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
