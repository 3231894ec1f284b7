"""Where one PUT's time goes: the WSGI application under production settings, in one process.

    DATABASE_URL=postgres://… .venv/bin/python bench/profile_put.py --requests 300 [--method GET]
    DATABASE_URL=postgres://… .venv/bin/python bench/profile_put.py --method LIST --instructions
    DATABASE_URL=postgres://… .venv/bin/python bench/profile_put.py --time-only --gc [--unfreeze]

Calls config.wsgi's application (or, with --app floor, bench/floor.py's; with --app bare,
bench/bare.py's, the parts BARE_WITHOUT names switched off) directly, with no server
and no network, for random customers of bench/generate.py's data with the reference page's body
(every text value made new per request: bench/generate.py's put_body_template says why)
(LIST: a random page of 12 of the organization's customers, as bench/wrk/scenario.lua asks), and
prints pyinstrument's summary of where the time went (--time-only: wall and CPU time only).

--gc reports the garbage collector's pauses during the measured requests (how many collections of
each generation, their total and their longest); --unfreeze first puts back into the collector's
generations what config.wsgi froze at start-up, to see what that saves.

--instructions runs the same requests under `valgrind --tool=callgrind` and counts the
instructions this process executes per request, the warm-up excluded: unlike a clock it does not
depend on what else the machine runs (PostgreSQL's own work is in another process, not counted).
The warm-up sends one request per organization, so that no API key's lastUsedAt (written at most
once a minute) is written during the measured requests.
"""

import argparse
import contextlib
import gc
import io
import itertools
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from wsgiref.util import setup_testing_defaults

from pyinstrument import Profiler

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
from bench.in_process import use_production_settings  # noqa: E402

use_production_settings()

from bench import floor  # noqa: E402
from config.wsgi import application as counterpart  # noqa: E402

APPS = {"counterpart": counterpart, "floor": floor.application, "bare": None}
application = counterpart


def app(name: str):
    """The application `--app` names; bench/bare.py only when asked, as it changes the process."""
    if name == "bare":
        from bench import bare

        return bare.application
    return APPS[name]


def environ(method: str, tenant: list[str], body: bytes) -> dict:
    key, _, low, high = tenant
    result = {
        "REQUEST_METHOD": "GET" if method == "LIST" else method,
        "PATH_INFO": f"/api/customers/{random.randint(int(low), int(high))}",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {key}",
    }
    if method == "LIST":
        result.update(
            PATH_INFO="/api/customers", QUERY_STRING=f"page={random.randint(1, 50)}&pageSize=12"
        )
    if method == "PUT":
        result.update(
            CONTENT_TYPE="application/json",
            CONTENT_LENGTH=str(len(body)),
            **{"wsgi.input": io.BytesIO(body)},
        )
    setup_testing_defaults(result)
    return result


def call(env: dict) -> None:
    statuses = []
    b"".join(application(env, lambda status, headers: statuses.append(status)))
    if not statuses[0].startswith("2"):
        raise SystemExit(f"{env['REQUEST_METHOD']} {env['PATH_INFO']} answered {statuses[0]}")


def keep_last_used_unwritten() -> None:
    """Under callgrind a run lasts minutes, not seconds, and each key's lastUsedAt (written at most
    once a minute) would be written again during the measured requests, a few hundred thousand
    instructions each, at random: the counts moved by ±2% from run to run. What the warm-up leaves
    written now holds for the whole run, as it does for a run at full speed."""
    from authkeys import services  # after config.wsgi has set Django up

    if os.environ.get("PROFILE_PUT_CALLGRIND") == "1":
        services.LAST_USED_PRECISION = timedelta(days=1)


def callgrind(switch: str) -> None:
    """Count instructions from here on ("on") or stop counting ("off"), under callgrind only."""
    if os.environ.get("PROFILE_PUT_CALLGRIND") == "1":
        subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True)


def count_instructions(args) -> None:
    """Run this script again under callgrind, counting only the measured requests."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install -y valgrind)")
    argv = [arg for arg in sys.argv[1:] if arg != "--instructions"]
    with tempfile.TemporaryDirectory() as tmp:
        completed = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={tmp}/callgrind.out",
                sys.executable,
                __file__,
                *argv,
                "--time-only",
            ],
            env={**os.environ, "PROFILE_PUT_CALLGRIND": "1"},
            capture_output=True,
            text=True,
        )
    found = re.search(r"Collected : (\d+)", completed.stderr)
    if completed.returncode or found is None:
        raise SystemExit(completed.stdout + completed.stderr)
    per_request = int(found[1]) / args.requests
    print(
        f"{args.app} {args.method}: {per_request / 1e6:.2f} million instructions per request in "
        f"this process ({args.requests} requests, callgrind)"
    )


class CollectionPauses:
    """The garbage collector's pauses from now on, by generation, in milliseconds."""

    def __init__(self):
        self.by_generation = {0: [], 1: [], 2: []}
        self._started = 0.0
        gc.callbacks.append(self.record)

    def record(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.by_generation[info["generation"]].append(time.perf_counter() - self._started)

    def __str__(self) -> str:
        return "garbage collections: " + "; ".join(
            f"generation {generation}: {len(pauses)}, {sum(pauses) * 1000:.1f} ms in all, "
            f"longest {max(pauses, default=0) * 1000:.1f} ms"
            for generation, pauses in self.by_generation.items()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--method", default="PUT", choices=["PUT", "GET", "LIST"])
    parser.add_argument("--time-only", action="store_true", help="time without the profiler")
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    parser.add_argument("--app", choices=list(APPS), default="counterpart")
    parser.add_argument("--seed", type=int, help="the same customers and pages every run")
    parser.add_argument("--gc", action="store_true", help="report garbage collection pauses")
    parser.add_argument("--unfreeze", action="store_true", help="undo config.wsgi's gc.freeze()")
    args = parser.parse_args()
    if args.instructions:
        return count_instructions(args)
    global application
    application = app(args.app)
    keep_last_used_unwritten()
    random.seed(args.seed)
    out = BENCH / "out"
    tenants = [line.split("\t") for line in (out / "tenants.tsv").read_text().splitlines()]
    template = (out / "put_body.json").read_bytes()
    run = str(time.time_ns()).encode()
    bodies = (template.replace(b"{n}", b"%s-%d" % (run, n)) for n in itertools.count())
    # Warm up: imports, the pool, the first queries, and each key's lastUsedAt (once a minute).
    for tenant in tenants:
        call(environ("GET", tenant, b""))
    for _ in range(20):
        call(environ(args.method, random.choice(tenants), next(bodies)))
    envs = [
        environ(args.method, random.choice(tenants), next(bodies)) for _ in range(args.requests)
    ]
    if args.unfreeze:
        gc.unfreeze()
    pauses = CollectionPauses() if args.gc else None
    profiler = Profiler(interval=0.0005)
    callgrind("on")
    started, cpu_started = time.perf_counter(), time.process_time()
    with contextlib.nullcontext() if args.time_only else profiler:
        for env in envs:
            call(env)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    callgrind("off")
    if pauses is not None:
        gc.callbacks.remove(pauses.record)
        print(pauses)
    if not args.time_only:
        print(profiler.output_text(unicode=True, show_all=os.environ.get("PROFILE_ALL") == "1"))
    print(
        f"{args.app} {args.method}: {elapsed / args.requests * 1000:.2f} ms per request, of which "
        f"{cpu / args.requests * 1000:.2f} ms CPU in this process (one process, no network)"
    )


if __name__ == "__main__":
    main()
