"""HTTP load on loopback: Counterpart, the floor and the usual-DRF peer, same gunicorn settings,
same run.

    DATABASE_URL=postgres://… GUNICORN_CMD_ARGS=--reuse-port .venv/bin/python bench/load.py \
        --scenarios get,put
    DATABASE_URL=postgres://… .venv/bin/python bench/load.py --against auth-off --scenarios get
    DATABASE_URL=postgres://… .venv/bin/python bench/load.py --against bare,peer --scenarios put
    DATABASE_URL=postgres://… .venv/bin/python bench/load.py --against baseline \
        --baseline ../wt/before --scenarios put
    DATABASE_URL=postgres://…:5433/… .venv/bin/python bench/load.py --against baseline \
        --baseline-database postgres://…:5432/… --scenarios get,put

The first command is the one docs/performance.md's GET and PUT numbers come from.

Needs `wrk` (Debian: apt-get install -y wrk) and the data of bench/generate.py. Serves Counterpart
as README's Production section says (gunicorn, config.settings.production, DEBUG off, the persistent
connections those settings keep (DJANGO_DB_POOL=true in the environment: the pool), one gthread
worker per core with two threads) and, with the same gunicorn options, the servers named by
--against: bench/floor.py (the floor: the same SQL with bare psycopg, no framework), bench/peer/
(the same endpoints written the usual DRF way: ModelSerializer, ModelViewSet,
djangorestframework-camel-case, a token class with a select_related lookup, DRF's pagination), or
bench/auth_off.py (Counterpart with authentication switched off), bench/bare.py (Counterpart
without the work the peer does not do: identity signals, snapshots, health checks, rate counts;
BARE_WITHOUT picks which), or `baseline`: Counterpart from
another checkout (`--baseline PATH`, e.g. a git worktree at an earlier commit, run with this
virtualenv against the same database, migrated by this tree), to measure a change in one run, or
this build against another database (`--baseline-database URL`, holding the same data: a Citus
coordinator against the plain PostgreSQL it was copied from). Then
it runs each scenario (get, put, list, search) with wrk and bench/wrk/scenario.lua: a VACUUM of the
tables, a short warm-up of each server, then timed runs alternating among the servers. Prints a
Markdown table (requests/s, median p50, worst p99 and each round's, non-2xx, Counterpart's rate as a
share of each other server's overall and in each round (round i of every server ran one after the
other), the CPU time a request cost the server's processes, PostgreSQL's and the whole machine, how
wrk's connections were spread over the server's workers in each round, the load average before the
first round) and keeps every round's numbers in bench/out/load-<time>.json. A scenario whose
endpoint answers 404 or 405 is skipped, with a note.

The servers' rate limits are raised so that no request is refused: every request is still
counted, but a benchmark faster than 600 requests a minute per key would otherwise measure 429s.
Every request is counted with one statement in the counter store (authkeys/ratelimit.py),
whatever the limit.
"""

import argparse
import concurrent.futures
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

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.procstat import connections_by_worker, cpu_ticks

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PYTHON_BIN = Path(sys.executable).parent
TARGETS = {
    "counterpart": ("config.wsgi:application", 8301),
    "floor": ("bench.floor:application", 8302),
    "auth-off": ("bench.auth_off:application", 8303),
    "peer": ("bench.peer.wsgi:application", 8304),
    "baseline": ("config.wsgi:application", 8305),
    "bare": ("bench.bare:application", 8306),
}
UNLIMITED = "1000000000/minute"
PROBES = {
    "get": ("GET", "/api/customers/{id}"),
    "put": ("PUT", "/api/customers/{id}"),
    "list": ("GET", "/api/customers?page=1&pageSize=12"),
    "search": ("GET", "/api/customers?page=1&pageSize=12&searchKeyword={word}"),
}


def server_env(database_url: str | None = None) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url or os.environ["DATABASE_URL"],
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "API_RATE_LIMIT_PER_KEY": UNLIMITED,
        "API_RATE_LIMIT_PER_USER": UNLIMITED,
        "PYTHONPATH": str(ROOT),
    }


def start(
    app: str, port: int, args, chdir: Path = ROOT, database_url: str | None = None
) -> subprocess.Popen:
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
        str(chdir),
    ]
    log = (OUT / f"gunicorn-{port}.log").open("w")
    return subprocess.Popen(command, env=server_env(database_url), stdout=log, stderr=log)


def first_tenant() -> tuple[str, str]:
    key, _, low, _ = (OUT / "tenants.tsv").read_text().splitlines()[0].split("\t")
    return key, low


def probe(port: int, scenario: str) -> int:
    key, customer_id = first_tenant()
    word = (OUT / "keywords.txt").read_text().split()[0]
    method, path = PROBES[scenario]
    body = (OUT / "put_body.json").read_bytes().replace(b"{n}", b"0") if method == "PUT" else None
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


def measured_round(server: subprocess.Popen, port: int, scenario: str, args) -> dict:
    """One timed wrk run, with the CPU time it cost each group of processes, per request, and how
    its connections were spread over the server's workers (looked at halfway through)."""
    load = os.getloadavg()
    before = cpu_ticks(server)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(wrk, port, scenario, args.duration, args)
        time.sleep(args.duration / 2)
        spread = connections_by_worker(server, port)
        result = running.result()
    after = cpu_ticks(server)
    spent = {name: after[name] - before[name] for name in before}
    return {"load": load, "cpu_ticks": spent, "connections_by_worker": spread, **result}


def cpu_per_request(runs: list[dict]) -> dict[str, float]:
    """Microseconds of CPU per request, by group, over all rounds."""
    requests = sum(r["requests"] for r in runs) or 1
    per_tick = 1e6 / os.sysconf("SC_CLK_TCK")
    return {
        name: sum(r["cpu_ticks"][name] for r in runs) * per_tick / requests
        for name in runs[0]["cpu_ticks"]
    }


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
        "cpu_us": cpu_per_request(runs),
        "rounds": runs,
    }


def vacuum(database_urls) -> None:
    """Vacuum the tables the scenarios read and write, so that each scenario starts alike: after a
    PUT scenario's edits, autovacuum would otherwise catch up during the next one's rounds, and a
    list's COUNT would read the heap for rows the visibility map no longer vouches for (list at a
    third of its rate until then)."""
    for url in database_urls:
        with psycopg.connect(url, autocommit=True) as connection:
            for table in VACUUMED:
                connection.execute(f"VACUUM (ANALYZE) {table}")


VACUUMED = ("customers_customer", "customers_customerchange", "authkeys_ratelimitcounter")


def run(args) -> list[dict]:
    targets = {name: TARGETS[name] for name in ("counterpart", *args.against)}
    servers = {
        name: start(
            app,
            port,
            args,
            (args.baseline or ROOT) if name == "baseline" else ROOT,
            args.baseline_database if name == "baseline" else None,
        )
        for name, (app, port) in targets.items()
    }
    databases = [os.environ["DATABASE_URL"]]
    if args.baseline_database and "baseline" in targets:
        databases.append(args.baseline_database)
    results = []
    try:
        for _, port in targets.values():
            wait_ready(port)
        for scenario in args.scenarios:
            statuses = {name: probe(port, scenario) for name, (_, port) in targets.items()}
            if statuses["counterpart"] in (404, 405):
                print(
                    f"skipped {scenario}: Counterpart answers {statuses['counterpart']} "
                    f"(the endpoint is not there yet)",
                    file=sys.stderr,
                )
                continue
            serving = {
                name: target
                for name, target in targets.items()
                if statuses[name] not in (404, 405)  # a server without the endpoint sits it out
            }
            vacuum(databases)
            for _, port in serving.values():
                wrk(port, scenario, args.warmup, args)
            # Alternate short runs, so all servers see the same neighbours on a shared machine.
            rounds = {name: [] for name in serving}
            for _ in range(args.rounds):
                for name, (_, port) in serving.items():
                    rounds[name].append(measured_round(servers[name], port, scenario, args))
            for name, runs in rounds.items():
                results.append({"target": name, "scenario": scenario, **combined(runs)})
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=30)
    return results


def shares(mine: dict, theirs: dict) -> str:
    """Counterpart's rate as a share of another server's, overall and in each round (round i of
    every server ran one after the other)."""
    per_round = ", ".join(
        f"{ours['rps'] / other['rps']:.2f}"
        for ours, other in zip(mine["rounds"], theirs["rounds"], strict=True)
    )
    return f"{mine['rps'] / theirs['rps']:.2f} ({per_round})"


def table(results: list[dict], args) -> str:
    by_target = {(r["target"], r["scenario"]): r for r in results}
    ratio_header = " | ".join(f"Counterpart ÷ {name} (each round)" for name in args.against)
    lines = [
        f"gunicorn --workers {args.workers} --worker-class {args.worker_class} "
        f"--threads {args.threads_per_worker}; wrk -t{args.wrk_threads} -c{args.connections} "
        f"-d{args.duration}s, {args.rounds} rounds alternated",
        "",
        f"| scenario | server | req/s | p50 ms | p99 ms: worst (each round) | non-2xx "
        f"| {ratio_header} | CPU µs/request: server, PostgreSQL, machine "
        "| connections per worker, each round | load avg 1, 5 min |",
        "|---|---|---:|---:|---:|---:|" + "---:|" * len(args.against) + "---|---|---|",
    ]
    for r in results:
        ratios = []
        for name in args.against:
            theirs = by_target.get((name, r["scenario"]))
            if r["target"] != "counterpart" or theirs is None:
                ratios.append("-")
            else:
                ratios.append(shares(r, theirs))
        share = " | ".join(ratios)
        p99 = ", ".join(f"{round_['p99_ms']:.0f}" for round_ in r["rounds"])
        cpu = r["cpu_us"]
        spread = ", ".join(
            "/".join(map(str, round_["connections_by_worker"])) for round_ in r["rounds"]
        )
        lines.append(
            f"| {r['scenario']} | {r['target']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} ({p99}) | {r['non2xx']} {r['statuses'] or ''} | {share} | "
            f"{cpu['server']:.0f}, {cpu['postgres']:.0f}, {cpu['machine']:.0f} | {spread} | "
            f"{r['load'][0]:.2f}, {r['load'][1]:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--against",
        type=lambda text: text.split(","),
        default=["floor", "peer"],
        help="servers Counterpart is measured against, beside it in the same run: floor (the "
        "least a server can do), peer (the usual DRF code), auth-off (Counterpart without "
        "authentication), bare (Counterpart without what the peer does not do: bench/bare.py), "
        "baseline (--baseline); default floor,peer",
    )
    parser.add_argument(
        "--baseline",
        type=lambda text: Path(text).resolve(),
        help="the checkout `--against baseline` serves (a git worktree at an earlier commit)",
    )
    parser.add_argument(
        "--baseline-database",
        help="the database `--against baseline` serves, with the same data (default: the same)",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    parser.add_argument("--threads-per-worker", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per server, alternated")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per run")
    parser.add_argument(
        "--scenarios", type=lambda text: text.split(","), default=list(PROBES), help="get,put,…"
    )
    args = parser.parse_args()
    if unknown := set(args.against) - set(TARGETS) - {"counterpart"}:
        raise SystemExit(f"--against: no server named {', '.join(sorted(unknown))}")
    baseline = args.baseline
    if "baseline" in args.against and not (
        (baseline and (baseline / "manage.py").is_file()) or args.baseline_database
    ):
        raise SystemExit(
            "--against baseline needs --baseline PATH (a checkout of Counterpart) or "
            "--baseline-database URL"
        )
    if shutil.which("wrk") is None:
        raise SystemExit("Install wrk first (Debian: apt-get install -y wrk).")
    if not (OUT / "tenants.tsv").exists():
        raise SystemExit("Run bench/generate.py first.")
    started = datetime.now(UTC)
    results = run(args)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"load-{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(
        json.dumps(
            {"args": vars(args), "started": started.isoformat(), "results": results}, default=str
        )
    )
    print(f"{started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores; raw numbers in {path}\n")
    print(table(results, args))


if __name__ == "__main__":
    main()
