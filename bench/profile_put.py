"""Where one PUT's time goes: the WSGI application under production settings, in one process.

    DATABASE_URL=postgres://… .venv/bin/python bench/profile_put.py --requests 300 [--method GET]

Calls config.wsgi's application (or, with --app floor, bench/floor.py's) directly, with no server
and no network, for random customers of bench/generate.py's data with the reference page's body,
and prints pyinstrument's summary of where the time went (--time-only: wall and CPU time only).
"""

import argparse
import contextlib
import io
import os
import random
import secrets
import sys
import time
from pathlib import Path
from wsgiref.util import setup_testing_defaults

from pyinstrument import Profiler

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.production",
    DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    DJANGO_ALLOWED_HOSTS="127.0.0.1",
    DJANGO_SECURE_SSL_REDIRECT="false",
    DJANGO_LOG_LEVEL="WARNING",
)

from bench import floor  # noqa: E402
from config.wsgi import application as counterpart  # noqa: E402

APPS = {"counterpart": counterpart, "floor": floor.application}
application = counterpart


def environ(method: str, tenant: list[str], body: bytes) -> dict:
    key, _, low, high = tenant
    result = {
        "REQUEST_METHOD": method,
        "PATH_INFO": f"/api/customers/{random.randint(int(low), int(high))}",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {key}",
    }
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--method", default="PUT", choices=["PUT", "GET"])
    parser.add_argument("--time-only", action="store_true", help="time without the profiler")
    parser.add_argument("--app", choices=list(APPS), default="counterpart")
    args = parser.parse_args()
    global application
    application = APPS[args.app]
    out = BENCH / "out"
    tenants = [line.split("\t") for line in (out / "tenants.tsv").read_text().splitlines()]
    body = (out / "put_body.json").read_bytes()
    for _ in range(20):  # warm up: imports, the pool, the first queries
        call(environ(args.method, random.choice(tenants), body))
    envs = [environ(args.method, random.choice(tenants), body) for _ in range(args.requests)]
    profiler = Profiler(interval=0.0005)
    started, cpu_started = time.perf_counter(), time.process_time()
    with contextlib.nullcontext() if args.time_only else profiler:
        for env in envs:
            call(env)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if not args.time_only:
        print(profiler.output_text(unicode=True, show_all=os.environ.get("PROFILE_ALL") == "1"))
    print(
        f"{args.app} {args.method}: {elapsed / args.requests * 1000:.2f} ms per request, of which "
        f"{cpu / args.requests * 1000:.2f} ms CPU in this process (one process, no network)"
    )


if __name__ == "__main__":
    main()
