"""What a benchmarked server's processes cost and hold, read from Linux's /proc (bench/load.py).

CPU time, in clock ticks, of the server's processes, of PostgreSQL's and of the whole machine, and
how a server's established connections are spread over its workers.
"""

import contextlib
import os
import subprocess
from pathlib import Path


def _ticks(pid: int, *, ended_children: bool = False) -> int:
    """CPU time of one process so far, user and system, in clock ticks (0 once it has ended);
    with `ended_children`, plus that of its children that have ended (and been waited for)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    own = int(fields[11]) + int(fields[12])
    return own + int(fields[13]) + int(fields[14]) if ended_children else own


def _processes() -> dict[int, tuple[int, str]]:
    """Every process now: pid → (parent pid, command name)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        found[int(stat.parent.name)] = (int(text.rpartition(")")[2].split()[1]), name)
    return found


def _machine_busy() -> int:
    """Ticks the whole machine's CPUs spent on anything but idling, from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return user + nice + system + irq + softirq + steal


def cpu_ticks(server: subprocess.Popen) -> dict[str, int]:
    """CPU ticks so far of the server's processes (gunicorn's master and workers) and of
    PostgreSQL's (the postmaster and every process it started: backends, WAL writer,
    checkpointer), those that have ended included: a backend whose connection closed during a
    round has its time in the postmaster's count of ended children."""
    processes = _processes()
    roots = {"server": server.pid}
    roots["postgres"] = next(
        (
            pid
            for pid, (parent, name) in processes.items()
            if name.startswith("postgres")
            and not processes.get(parent, (0, ""))[1].startswith("postgres")
        ),
        None,
    )
    ticks = {}
    for group, root in roots.items():
        children = [pid for pid, (parent, _) in processes.items() if parent == root]
        ticks[group] = _ticks(root, ended_children=True) + sum(map(_ticks, children))
    return {**ticks, "machine": _machine_busy()}


def connections_by_worker(server: subprocess.Popen, port: int) -> list[int]:
    """How many established connections to `port` each of the server's workers holds now, most
    first: wrk's keep-alive connections stay with whichever worker accepted them, and a worker
    that holds most of them serves most requests, on one core (its threads share one GIL)."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rpartition(":")[2], 16)
                if local_port == port and fields[3] == _TCP_ESTABLISHED:
                    established.add(f"socket:[{fields[9]}]")
    workers = [pid for pid, (parent, _) in _processes().items() if parent == server.pid]
    held = []
    for pid in workers:
        sockets = 0
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            with contextlib.suppress(FileNotFoundError):
                sockets += os.readlink(fd) in established
        held.append(sockets)
    return sorted(held, reverse=True)


_TCP_ESTABLISHED = "01"  # the state column of /proc/net/tcp
