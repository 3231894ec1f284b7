"""HTTP load on loopback: Counterpart against the floor, same gunicorn settings, same run.

    DATABASE_URL=postgres://… .venv/bin/python bench/load.py --workers 5 --duration 10 --rounds 3

Needs `wrk` (Debian: apt-get install -y wrk) and the data of bench/generate.py. Serves Counterpart
as README's Production section says (gunicorn, config.settings.production, DEBUG off, the psycopg
pool those settings enable) and bench/floor.py with the same gunicorn options, then runs each
scenario (get, put, list, search) with wrk and bench/wrk/scenario.lua: a short warm-up of each,
then timed runs alternating between the two servers. Prints a Markdown table (requests/s, median
p50, worst p99, non-2xx, Counterpart's share of the floor's rate, the load average before the first
round) and keeps every round's numbers in bench/out/load-<time>.json. A scenario whose endpoint
answers 404 or 405 is skipped, with a note.
"""

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PYTHON_BIN = Path(sys.executable).parent
TARGETS = {
    "counterpart": ("config.wsgi:application", 8301),
    "floor": ("bench.floor:application", 8302),
}
PROBES = {
    "get": ("GET", "/api/customers/{id}"),
    "put": ("PUT", "/api/customers/{id}"),
    "list": ("GET", "/api/customers?page=1&pageSize=12"),
    "search": ("GET", "/api/customers?page=1&pageSize=12&searchKeyword={word}"),
}


def server_env() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def start(app: str, port: int, args) -> subprocess.Popen:
    command = [
        str(PYTHON_BIN / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads_per_worker),
        "--chdir",
        str(ROOT),
    ]
    log = (OUT / f"gunicorn-{port}.log").open("w")
    return subprocess.Popen(command, env=server_env(), stdout=log, stderr=log)


def first_tenant() -> tuple[str, str]:
    key, _, low, _ = (OUT / "tenants.tsv").read_text().splitlines()[0].split("\t")
    return key, low


def probe(port: int, scenario: str) -> int:
    key, customer_id = first_tenant()
    word = (OUT / "keywords.txt").read_text().split()[0]
    method, path = PROBES[scenario]
    body = (OUT / "put_body.json").read_bytes() if method == "PUT" else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path.format(id=customer_id, word=word)}",
        method=method,
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            probe(port, "get")
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"nothing answers on port {port}")


def wrk(port: int, scenario: str, seconds: int, args) -> dict:
    command = [
        "wrk",
        f"-t{args.wrk_threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(BENCH / "wrk" / "scenario.lua"),
        f"http://127.0.0.1:{port}",
        "--",
        scenario,
    ]
    output = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_OUT": str(OUT)},
    ).stdout
    return {**json.loads(output.strip().splitlines()[-1]), "command": " ".join(command)}


def combined(runs: list[dict]) -> dict:
    """Rounds as one run: total requests over total time, the worst p99, the median p50."""
    statuses = {}
    for run_ in runs:
        for status, count in run_["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "rps": sum(r["requests"] for r in runs) / sum(r["seconds"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "non2xx": sum(r["non2xx"] for r in runs),
        "wrk_non2xx_3xx": sum(r["wrk_non2xx_3xx"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
        "statuses": statuses,
        "load": runs[0]["load"],
        "rounds": runs,
    }


def run(args) -> list[dict]:
    servers = {name: start(app, port, args) for name, (app, port) in TARGETS.items()}
    results = []
    try:
        for _, port in TARGETS.values():
            wait_ready(port)
        for scenario in args.scenarios:
            statuses = {name: probe(port, scenario) for name, (_, port) in TARGETS.items()}
            if statuses["counterpart"] in (404, 405):
                print(
                    f"skipped {scenario}: Counterpart answers {statuses['counterpart']} "
                    f"(the endpoint is not there yet)",
                    file=sys.stderr,
                )
                continue
            for _, port in TARGETS.values():
                wrk(port, scenario, args.warmup, args)
            # Alternate short runs, so both servers see the same neighbours on a shared machine.
            rounds = {name: [] for name in TARGETS}
            for _ in range(args.rounds):
                for name, (_, port) in TARGETS.items():
                    load = os.getloadavg()
                    rounds[name].append({"load": load, **wrk(port, scenario, args.duration, args)})
            for name, runs in rounds.items():
                results.append({"target": name, "scenario": scenario, **combined(runs)})
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=30)
    return results


def table(results: list[dict], args) -> str:
    floor = {r["scenario"]: r["rps"] for r in results if r["target"] == "floor"}
    lines = [
        f"gunicorn --workers {args.workers} --worker-class {args.worker_class} "
        f"--threads {args.threads_per_worker}; wrk -t{args.wrk_threads} -c{args.connections} "
        f"-d{args.duration}s, {args.rounds} rounds alternated",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | non-2xx | of floor | load avg 1, 5 min |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        share = f"{r['rps'] / floor[r['scenario']]:.2f}" if r["scenario"] in floor else "-"
        lines.append(
            f"| {r['scenario']} | {r['target']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['non2xx']} {r['statuses'] or ''} | {share} | "
            f"{r['load'][0]:.2f}, {r['load'][1]:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads-per-worker", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per server, alternated")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per run")
    parser.add_argument(
        "--scenarios", type=lambda text: text.split(","), default=list(PROBES), help="get,put,…"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("Install wrk first (Debian: apt-get install -y wrk).")
    if not (OUT / "tenants.tsv").exists():
        raise SystemExit("Run bench/generate.py first.")
    started = datetime.now(UTC)
    results = run(args)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"load-{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(
        json.dumps({"args": vars(args), "started": started.isoformat(), "results": results})
    )
    print(f"{started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores; raw numbers in {path}\n")
    print(table(results, args))


if __name__ == "__main__":
    main()
