"""Counting stays exact however many server processes share a counter, and whatever their clocks.

The processes are real: forked, each with its own memory (whatever a process keeps of the
counters) and its own connection, taking turns on one credential's requests, as a load balancer
sends them round-robin. The clocks are the application's (`time.time`, `timezone.now`) set 30 s
fast or slow: the windows follow the store's clock, so neither changes a count.
"""

import multiprocessing
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from authkeys import ratelimit
from authkeys.models import RateLimitCounter

PROCESSES = 100
RATE = ratelimit.Rate(limit=600, period=3600)  # an hour: no window ends during the test


@pytest.fixture(params=["database", "redis"])
def shared_store(request):
    if request.param == "database":
        request.getfixturevalue("database_cache")
    else:
        request.getfixturevalue("redis_cache")
    return request.param


def serve(pipe, name):
    """A server process: count one request of `name` each time it is asked, send back whether it
    was served; its connection closed after each, so that 100 processes need few at once."""
    while pipe.recv():
        usage = ratelimit.count_request(name, RATE)
        connections.close_all()
        pipe.send(not usage.exceeded)


@pytest.mark.django_db(transaction=True)
def test_a_hundred_processes_taking_turns_serve_exactly_the_limit(shared_store):
    if shared_store == "database" and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: forked processes do not share an in-memory SQLite database")
    context = multiprocessing.get_context("fork")
    connections.close_all()  # each process opens its own
    pipes, processes = [], []
    for _ in range(PROCESSES):
        ours, theirs = context.Pipe()
        process = context.Process(target=serve, args=(theirs, "key:shared"), daemon=True)
        process.start()
        pipes.append(ours)
        processes.append(process)
    try:
        served = []
        for turn in range(RATE.limit + PROCESSES):
            pipes[turn % PROCESSES].send(True)
            served.append(pipes[turn % PROCESSES].recv())
    finally:
        for pipe in pipes:
            pipe.send(False)
        for process in processes:
            process.join(timeout=10)

    # Exact: every request counted in the shared counter, by one statement, before it is served.
    assert served == [True] * RATE.limit + [False] * PROCESSES
    [usage] = ratelimit.peek(["key:shared"], {"key:shared": RATE})
    assert usage.count == RATE.limit + PROCESSES


@contextmanager
def app_clock(skew: float):
    """This machine's clock `skew` seconds off: what Python reads, not what the store reads."""
    real_time, real_now = time.time, timezone.now
    time.time = lambda: real_time() + skew
    timezone.now = lambda: real_now() + timedelta(seconds=skew)
    try:
        yield
    finally:
        time.time, timezone.now = real_time, real_now


@pytest.mark.django_db(transaction=True)
def test_machines_whose_clocks_differ_by_a_minute_share_one_window(shared_store):
    rate = ratelimit.Rate(limit=10, period=60)
    served = []
    for turn in range(30):  # two machines taking turns, one 30 s slow and one 30 s fast
        with app_clock(-30 if turn % 2 else 30):
            usage = ratelimit.count_request("key:skewed", rate)
        served.append(not usage.exceeded)
        assert usage.count == turn + 1  # one counter: never split, never restarted
        assert 0 < usage.reset <= 60

    assert served == [True] * 10 + [False] * 20


@pytest.mark.django_db(transaction=True)
def test_a_fast_machine_clearing_ended_windows_leaves_live_counters_alone(
    database_cache, monkeypatch
):
    rate = ratelimit.Rate(limit=60, period=60)
    for _ in range(3):
        ratelimit.count_request("key:live", rate)
    ended = timezone.now() - timedelta(minutes=5)
    RateLimitCounter.objects.create(name="ratelimit:key:ended:60", count=7, expires_at=ended)
    monkeypatch.setattr(ratelimit, "_last_cleared", float("-inf"))  # due to clear again

    with app_clock(120):  # two minutes fast: every window open now has ended by this clock
        opened = ratelimit.count_request("key:other", rate)  # opens a window: clears ended ones

    assert opened.count == 1
    assert not RateLimitCounter.objects.filter(name="ratelimit:key:ended:60").exists()
    assert ratelimit.count_request("key:live", rate).count == 4
