"""Two servers behind HAProxy: what one server guarantees holds across both.

The servers are production ones (tests/reliability/cluster.py) on the test database, so what they
write is what these tests read back. Requests go through HAProxy, one connection each, so
round-robin alternates the servers; `X-Served-By` (HAProxy's) and each server's own request log
say which one answered. PostgreSQL only: two servers share one database server, not a file.
"""

import http.client
import http.cookies
import re
import signal
import subprocess
import threading
import time
import uuid

import pytest
import redis
from django.db import connection

from authkeys.models import RateLimitCounter
from customers.models import Customer, CustomerChange
from tests.factories import PASSWORD

from .cluster import (
    CHECK_INTERVAL_MS,
    FALL,
    SERVERS,
    free_port,
    require,
    start_cluster,
    wait_until,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

RATE_LIMIT = 10
SIGN_IN_FAILURES_PER_ADDRESS = 3


@pytest.fixture(scope="module")
def cluster(django_db_setup, tmp_path_factory):
    started = start_cluster(connection.settings_dict, tmp_path_factory.mktemp("cluster"))
    yield started
    started.close()


@pytest.fixture(scope="module")
def limited_cluster(django_db_setup, tmp_path_factory):
    """Low limits: API_RATE_LIMIT_PER_KEY a minute, failed sign-ins per address an hour."""
    started = start_cluster(
        connection.settings_dict, tmp_path_factory.mktemp("limited"), limits_env()
    )
    yield started
    started.close()


def limits_env() -> dict:
    return {
        "API_RATE_LIMIT_PER_KEY": f"{RATE_LIMIT}/minute",
        "SIGN_IN_FAILURES_PER_ADDRESS": f"{SIGN_IN_FAILURES_PER_ADDRESS}/hour",
        "SIGN_IN_FAILURES_PER_EMAIL": "1000/hour",
    }


def bearer(tenant, **headers) -> dict:
    return {"Authorization": f"Bearer {tenant.key}", **headers}


def test_every_customer_operation_works_through_the_balancer_on_both_servers(tenant, cluster):
    sent = []  # (request id, response)

    def api(path, method="GET", body=None, **headers):
        request_id = uuid.uuid4().hex
        response = cluster.call(
            path, method, body, bearer(tenant, **{"X-Request-ID": request_id}, **headers)
        )
        sent.append((request_id, response))
        return response

    created = api(
        "/api/customers",
        "POST",
        {"customerType": "business", "currencyCode": "USD", "displayName": "Acme"},
    )
    assert created.status == 201, created.body
    url = f"/api/customers/{created.body['id']}"
    got = api(url)
    assert (got.status, got.body["displayName"]) == (200, "Acme")
    listed = api("/api/customers?pageSize=100")
    assert listed.status == 200
    assert created.body["id"] in [c["id"] for c in listed.body["customers"]]
    edit = {"customerType": "individual", "currencyCode": "USD", "displayName": "Acme Ltd"}
    put = api(url, "PUT", edit, **{"If-Match": got.headers["ETag"]})
    assert (put.status, put.body["displayName"]) == (200, "Acme Ltd")
    assert api(f"{url}/inactivate", "PATCH").status == 200
    assert Customer.objects.get(pk=created.body["id"]).active is False
    assert api(f"{url}/activate", "PATCH").status == 200
    customer = Customer.objects.get(pk=created.body["id"])
    assert (customer.display_name, customer.customer_type, customer.active) == (
        "Acme Ltd", "individual", True,
    )  # fmt: skip
    assert api(url, "DELETE").status == 200
    assert not Customer.objects.filter(pk=created.body["id"]).exists()
    assert api(url).status == 404

    # Both servers served, and each request is in the log of the server HAProxy named.
    assert {response.served_by for _, response in sent} == set(SERVERS)
    logged = {name: cluster.served_request_ids(name) for name in SERVERS}
    for request_id, response in sent:
        assert request_id in logged[response.served_by]
        assert all(request_id not in logged[name] for name in SERVERS if name != response.served_by)


def test_one_idempotency_key_sent_to_both_servers_at_once_creates_one_customer(tenant, cluster):
    for attempt in range(5):
        headers = bearer(tenant, **{"Idempotency-Key": f"race-{attempt}"})
        body = {"customerType": "business", "currencyCode": "USD", "displayName": f"Once {attempt}"}
        start = threading.Barrier(len(SERVERS))
        answers = {}

        def post(name, start=start, answers=answers, body=body, headers=headers):
            start.wait()
            answers[name] = cluster.call_server(name, "/api/customers", "POST", body, headers)

        threads = [threading.Thread(target=post, args=(name,)) for name in SERVERS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert [answers[name].status for name in SERVERS] == [201, 201]
        assert len({answers[name].body["id"] for name in SERVERS}) == 1
        replays = [answers[name].headers.get("Idempotent-Replayed") for name in SERVERS]
        assert sorted(replays, key=str) == [None, "true"]  # one created, one replayed
        assert Customer.objects.filter(display_name=f"Once {attempt}").count() == 1


def test_if_match_races_over_both_servers_lose_no_update(tenant, cluster):
    url = f"/api/customers/{tenant.customer.pk}"
    writers, rounds = 6, 4
    start = threading.Barrier(writers)
    results = []
    lock = threading.Lock()

    def writer(n):
        start.wait()
        for i in range(rounds):
            etag = cluster.call(url, headers=bearer(tenant)).headers["ETag"]
            note = f"writer {n} edit {i}"
            answer = cluster.call(
                url, "PATCH", {"note": note}, bearer(tenant, **{"If-Match": etag})
            )
            with lock:
                results.append((answer.status, note, etag, answer.served_by))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == writers * rounds
    assert {status for status, *_ in results} <= {200, 412}
    assert {served_by for *_, served_by in results} == set(SERVERS)
    successes = [r for r in results if r[0] == 200]
    assert successes
    # Each acknowledged update started from a version no other acknowledged one started from,
    # and each is in the history; the customer's version counts them all.
    assert len({etag for _, _, etag, _ in successes}) == len(successes)
    tenant.customer.refresh_from_db()
    assert tenant.customer.version == 1 + len(successes)
    history = CustomerChange.objects.filter(customer_id=tenant.customer.pk, action="update")
    assert sorted(h.changes["note"][1] for h in history) == sorted(n for _, n, *_ in successes)


def wait_for_a_fresh_window(period: int, needed: float = 5) -> None:
    """Counters are per clock-aligned window; start the run well inside one, so that a window
    ending halfway does not let a second batch through."""
    left = period - time.time() % period
    if left < needed:
        time.sleep(left + 0.1)


def assert_the_limit_holds_across_both_servers(cluster, tenant) -> None:
    wait_for_a_fresh_window(60)
    answers = [
        cluster.call("/api/customers", headers=bearer(tenant)) for _ in range(3 * RATE_LIMIT)
    ]

    served = [a for a in answers if a.status == 200]
    refused = [a for a in answers if a.status == 429]
    assert len(served) == RATE_LIMIT
    assert len(refused) == 2 * RATE_LIMIT
    assert [a.status for a in answers[:RATE_LIMIT]] == [200] * RATE_LIMIT
    assert {a.served_by for a in served} == set(SERVERS)
    assert {a.served_by for a in refused} == set(SERVERS)
    assert all(a.body["errors"][0]["type"] == "THROTTLED" for a in refused)
    assert all(int(a.headers["Retry-After"]) >= 1 for a in refused)


def test_a_keys_rate_limit_holds_across_both_servers(tenant, limited_cluster):
    assert_the_limit_holds_across_both_servers(limited_cluster, tenant)
    assert RateLimitCounter.objects.exists()  # counted in the shared database


@pytest.fixture
def passwords(tenant, settings) -> tuple[dict, dict]:
    """Sign-in bodies for the tenant's owner: a wrong password, the right one."""
    # The servers check with production's hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    tenant.owner.set_password(PASSWORD)
    tenant.owner.save()
    email = tenant.owner.email
    return {"email": email, "password": "not the password"}, {"email": email, "password": PASSWORD}


def sign_in(cluster, body: dict, source: str, **headers):
    return cluster.call("/api/auth/token", "POST", body, headers, source=source)


def test_failed_sign_ins_are_counted_per_client_address_behind_the_proxy(
    limited_cluster, passwords
):
    """Two clients, two loopback source addresses: HAProxy's forwardfor tells the servers which
    one connected (the last X-Forwarded-For address, DJANGO_NUM_PROXIES=1). One client's failures
    lock it out on both servers, and not the other client; a forged X-Forwarded-For does not
    help, because HAProxy appends the real address after it."""
    wrong, right = passwords
    failures = [
        sign_in(limited_cluster, wrong, "127.0.0.2") for _ in range(SIGN_IN_FAILURES_PER_ADDRESS)
    ]
    assert [f.status for f in failures] == [401] * SIGN_IN_FAILURES_PER_ADDRESS
    assert {f.served_by for f in failures} == set(SERVERS)

    locked_out = [sign_in(limited_cluster, right, "127.0.0.2") for _ in SERVERS]
    assert [a.status for a in locked_out] == [429, 429]
    assert {a.served_by for a in locked_out} == set(SERVERS)
    forged = sign_in(limited_cluster, right, "127.0.0.2", **{"X-Forwarded-For": "203.0.113.9"})
    assert forged.status == 429

    assert sign_in(limited_cluster, wrong, "127.0.0.3").status == 401
    signed_in = sign_in(limited_cluster, right, "127.0.0.3")
    assert signed_in.status == 200
    assert signed_in.body["access"]


def test_with_the_default_num_proxies_behind_a_proxy_one_client_locks_out_all(passwords, tmp_path):
    """DJANGO_NUM_PROXIES=0 (the default, right without a proxy) reads the socket's address: behind
    HAProxy that is HAProxy's for every client, so one client's failures refuse the other too."""
    cluster = start_cluster(
        connection.settings_dict, tmp_path, {**limits_env(), "DJANGO_NUM_PROXIES": "0"}
    )
    wrong, right = passwords
    try:
        failures = [
            sign_in(cluster, wrong, "127.0.0.2") for _ in range(SIGN_IN_FAILURES_PER_ADDRESS)
        ]
        other = sign_in(cluster, right, "127.0.0.3")
    finally:
        cluster.close()
    assert [f.status for f in failures] == [401] * SIGN_IN_FAILURES_PER_ADDRESS
    assert other.status == 429


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_stopping_a_server_mid_run_loses_no_acknowledged_write(tenant, sig, tmp_path):
    """Writers create customers through the balancer while one server is stopped. A request the
    stopped server held may fail (502 from HAProxy), never silently: every 201 is in the database.
    After HAProxy's checks have taken the server out, every request succeeds on the other one,
    and retrying the failed creates with their Idempotency-Key creates each customer once."""
    # As many writes as the machine serves: more than the default limit of a key a minute.
    cluster = start_cluster(
        connection.settings_dict, tmp_path, {"API_RATE_LIMIT_PER_KEY": "100000/minute"}
    )
    try:
        results = []
        lock = threading.Lock()
        running = threading.Event()
        running.set()

        def writer(n):
            i = 0
            while running.is_set():
                key = f"writer-{n}-{i}"
                body = {"customerType": "business", "currencyCode": "USD", "displayName": key}
                sent_at = time.monotonic()
                answer = cluster.call("/api/customers", "POST", body,
                                      bearer(tenant, **{"Idempotency-Key": key}))  # fmt: skip
                with lock:
                    results.append((sent_at, key, answer))
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        cluster.stop("app1", sig)
        stopped_at = time.monotonic()
        taken_out = stopped_at + FALL * CHECK_INTERVAL_MS / 1000 + 0.5
        time.sleep(taken_out - stopped_at + 1.5)
        running.clear()
        for thread in threads:
            thread.join()

        before = [a for t, _, a in results if t < stopped_at]
        after = [a for t, _, a in results if t > taken_out]
        assert {a.served_by for a in before if a.status == 201} == set(SERVERS)
        assert after
        assert {(a.status, a.served_by) for a in after} == {(201, "app2")}
        assert "Server app/app1 is DOWN" in cluster.haproxy_log()
        assert "Server app/app2 is DOWN" not in cluster.haproxy_log()
        failed = [(key, a) for _, key, a in results if a.status != 201]
        assert all(a.status in (502, 503) for _, a in failed), [a.status for _, a in failed]

        acknowledged = {a.body["id"]: key for _, key, a in results if a.status == 201}
        stored = dict(
            Customer.objects.filter(pk__in=acknowledged).values_list("pk", "display_name")
        )
        assert stored == acknowledged

        for key, _ in failed:
            body = {"customerType": "business", "currencyCode": "USD", "displayName": key}
            retry = cluster.call("/api/customers", "POST", body,
                                 bearer(tenant, **{"Idempotency-Key": key}))  # fmt: skip
            assert (retry.status, retry.served_by) == (201, "app2")
        keys = {key for _, key, _ in results}
        names = list(
            Customer.objects.filter(
                organization=tenant.organization, display_name__in=keys
            ).values_list("display_name", flat=True)
        )
        assert sorted(names) == sorted(keys)
    finally:
        cluster.close()


def test_the_rate_limit_holds_across_both_servers_with_redis(tenant, tmp_path):
    redis_server = require("redis-server", "redis-server")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)

        def answers() -> bool:
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_until(answers, "redis-server")
        cluster = start_cluster(
            connection.settings_dict, tmp_path, {**limits_env(), "REDIS_URL": url}
        )
        try:
            assert_the_limit_holds_across_both_servers(cluster, tenant)
        finally:
            cluster.close()
        assert any(b"ratelimit:key:" in key for key in client.keys("*"))
        assert not RateLimitCounter.objects.exists()  # not in the database
    finally:
        process.terminate()
        process.wait(timeout=10)


class Browser:
    """A back-office user's browser, through the balancer: cookies kept by hand (production
    marks them Secure, and these servers speak plain HTTP on loopback)."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.cookies: dict[str, str] = {}

    def request(self, path, method="GET", fields=None, files=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if fields is not None:
            fields = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}
            boundary = uuid.uuid4().hex
            parts = [
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                for name, value in fields.items()
            ]
            for name, (filename, content) in (files or {}).items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n'
                )
            body = ("".join(parts) + f"--{boundary}--\r\n").encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            headers["Referer"] = f"http://127.0.0.1:{self.cluster.port}{path}"
        connection = http.client.HTTPConnection("127.0.0.1", self.cluster.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers={"Host": "127.0.0.1", **headers})
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            morsel = http.cookies.SimpleCookie(header)
            self.cookies.update({name: value.value for name, value in morsel.items()})
        return response.status, response.headers.get("X-Served-By"), text


def test_an_admin_import_previewed_on_one_server_is_confirmed_on_the_other(
    tenant, cluster, passwords
):
    tenant.owner.is_staff = True
    tenant.owner.is_superuser = True
    tenant.owner.save(update_fields=["is_staff", "is_superuser"])
    browser = Browser(cluster)
    browser.request("/admin/login/")
    status, _, _ = browser.request(
        "/admin/login/?next=/admin/",
        "POST",
        {"username": tenant.owner.email, "password": PASSWORD},
    )
    assert status == 302
    assert "sessionid" in browser.cookies
    browser.request("/admin/customers/customer/import/")

    status, uploaded_by, page = browser.request(
        "/admin/customers/customer/import/",
        "POST",
        {"organization": tenant.organization.pk, "mode": "create", "match": "code", "format": ""},
        {
            "file": (
                "two.csv",
                "customerType,displayName,code,currencyCode\n"
                "business,Balanced A,LB-A,USD\nbusiness,Balanced B,LB-B,USD\n",
            )
        },
    )
    assert status == 200, page[:500]
    token = re.search(r'name="confirm" value="([^"]+)"', page).group(1)
    assert not Customer.objects.filter(code__startswith="LB-").exists()  # a preview writes nothing

    status, confirmed_by, _ = browser.request(
        "/admin/customers/customer/import/", "POST", {"confirm": token}
    )

    assert status == 302
    assert {uploaded_by, confirmed_by} == set(SERVERS)
    imported = Customer.objects.filter(organization=tenant.organization, code__startswith="LB-")
    assert sorted(imported.values_list("code", flat=True)) == ["LB-A", "LB-B"]
    assert CustomerChange.objects.filter(customer_id__in=imported.values("pk")).count() == 2
