"""What HAProxy in front costs: the same GETs and PUTs through the balancer to two servers, and
to one server direct, in one run, alternating.

    DATABASE_URL=postgres://… .venv/bin/python bench/balancer.py --scenarios get,put

Direct: one gunicorn with two workers (bench/load.py's settings). Balanced: two gunicorns of one
worker each (the same two processes' worth of CPU) behind HAProxy, round-robin, with its default
keep-alive on both sides. Needs haproxy and wrk, and the data of bench/generate.py. Prints each
round's requests a second and the balanced/direct ratio of their means.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.load import OUT, start, wait_ready, wrk

HAPROXY = """\
global
    maxconn 512
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend api
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance roundrobin
    server app1 127.0.0.1:{one}
    server app2 127.0.0.1:{two}
"""
DIRECT, ONE, TWO, BALANCER = 8311, 8312, 8313, 8314


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="get,put")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    args = parser.parse_args()
    args.worker_class, args.threads_per_worker = "gthread", 2
    app = "config.wsgi:application"
    servers = []
    args.workers = 2
    servers.append(start(app, DIRECT, args))
    args.workers = 1
    servers += [start(app, ONE, args), start(app, TWO, args)]
    config = Path(tempfile.mkdtemp()) / "haproxy.cfg"
    config.write_text(HAPROXY.format(port=BALANCER, one=ONE, two=TWO))
    servers.append(subprocess.Popen(["haproxy", "-f", str(config)]))
    try:
        for port in (DIRECT, ONE, TWO, BALANCER):
            wait_ready(port)
        print("| scenario | direct req/s (rounds) | balanced req/s (rounds) | balanced ÷ direct |")
        print("|---|---|---|---:|")
        for scenario in args.scenarios.split(","):
            rates = {"direct": [], "balanced": []}
            for port in (DIRECT, BALANCER):
                wrk(port, scenario, 3, args)  # warm-up
            for _ in range(args.rounds):
                for name, port in (("direct", DIRECT), ("balanced", BALANCER)):
                    result = wrk(port, scenario, args.duration, args)
                    rates[name].append(result["requests"] / result["seconds"])
            ratio = statistics.mean(rates["balanced"]) / statistics.mean(rates["direct"])
            shown = {k: ", ".join(f"{r:.0f}" for r in v) for k, v in rates.items()}
            print(f"| {scenario} | {shown['direct']} | {shown['balanced']} | {ratio:.2f} |")
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait()
        time.sleep(0.5)
    print(f"\nServers' logs in {OUT}.")


if __name__ == "__main__":
    main()
