"""The stored duplicate report (customers/duplicates.py): after any write, at any door, the pairs
the report reads are the pairs computed afresh from the signals, and catching up leaves no change
behind."""

import random

import pytest

from common.actors import Actor, Door
from customers import duplicates, services
from customers.models import Customer, CustomerDuplicatePair, CustomerSignalChange

from .importing.conftest import rows, write_csv

pytestmark = pytest.mark.django_db

ACTOR = Actor(door=Door.COMMAND)
NAMES = ["Acme Corp.", "ACME Corporation", "Globex", "Globex Inc", "Initech", "Umbrella"]
EMAILS = ["", "billing@acme.test", "ap@globex.test", "BILLING@acme.test ", "info@initech.test"]
PHONES = ["", "(415) 555-0100", "+1 415-555-0100", "415 555 0199"]


def stored(organization) -> list[tuple[int, int, str]]:
    """The report as stored, after catching up: (first id, second id, score)."""
    duplicates.catch_up(organization.pk)
    return [
        (first, second, str(score))
        for first, second, score in CustomerDuplicatePair.objects.filter(organization=organization)
        .order_by("-score", "first_id", "second_id")
        .values_list("first_id", "second_id", "score")
    ]


def computed(organization) -> list[tuple[int, int, str]]:
    return [
        (first, second, str(score)) for first, second, score in duplicates.computed(organization)
    ]


def create(organization, name, email="", phone=""):
    data = {"customer_type": "business", "display_name": name, "currency_code": "USD"}
    if email:
        data["email"] = email
    if phone:
        data["work_phone"] = phone
    return services.customer_create(organization=organization, data=data, actor=ACTOR)


@pytest.fixture
def us(tenant):
    tenant.organization.phone_region = "US"
    tenant.organization.save()
    return tenant.organization


def test_the_stored_pairs_are_the_computed_ones_after_every_kind_of_write(us, tmp_path):
    draw = random.Random(21)  # noqa: S311 - a repeatable sequence of writes
    for _ in range(12):
        create(us, draw.choice(NAMES), draw.choice(EMAILS), draw.choice(PHONES))
    assert stored(us) == computed(us)
    assert len(computed(us)) > 10  # a book with duplicates, or this test proves little

    for step in range(40):
        ids = sorted(Customer.objects.filter(organization=us).values_list("pk", flat=True))
        action = draw.choice(["create", "edit", "edit", "delete", "merge", "unmerge", "import"])
        if action == "create":
            create(us, draw.choice(NAMES), draw.choice(EMAILS), draw.choice(PHONES))
        elif action == "edit":
            changes = draw.choice(
                [
                    {"display_name": draw.choice(NAMES)},
                    {"email": draw.choice(EMAILS).strip()},
                    {"work_phone": draw.choice(PHONES)},
                    {"note": f"note {step}"},
                ]
            )
            services.customer_update(
                organization=us, customer_id=draw.choice(ids), changes=changes, actor=ACTOR
            )
        elif action == "delete" and len(ids) > 4:
            services.customer_delete(organization=us, customer_id=draw.choice(ids), actor=ACTOR)
        elif action == "merge" and len(ids) > 4:
            source, into = draw.sample(ids, 2)
            services.customer_merge(
                organization=us, customer_id=source, into_id=into, choices={}, actor=ACTOR
            )
            if draw.random() < 0.5:
                services.customer_unmerge(organization=us, customer_id=source, actor=ACTOR)
        elif action == "import":
            path = write_csv(
                tmp_path / f"{step}.csv",
                rows(
                    *(
                        ["business", draw.choice(NAMES), "", draw.choice(EMAILS).strip(), "USD"]
                        for _ in range(3)
                    )
                ),
            )
            with path.open("rb") as stream:
                services.customer_import(organization=us, stream=stream, fmt="csv", actor=ACTOR)
        if step % 4 == 0:
            assert stored(us) == computed(us), f"after step {step} ({action})"
    assert stored(us) == computed(us)
    assert not CustomerSignalChange.objects.filter(organization=us).exists()


def test_a_value_whose_holders_cross_group_max_makes_and_unmakes_the_others_pairs(us):
    phone = "(415) 555-0100"
    crowd = [
        create(us, f"Customer {number}", phone=phone) for number in range(duplicates.GROUP_MAX + 1)
    ]
    # Held by more than GROUP_MAX customers, the phone pairs nobody.
    assert stored(us) == []

    services.customer_update(
        organization=us, customer_id=crowd[0].pk, changes={"work_phone": ""}, actor=ACTOR
    )
    # One fewer: the other GROUP_MAX now pair, each with each, on the phone alone.
    pairs = stored(us)
    assert len(pairs) == duplicates.GROUP_MAX * (duplicates.GROUP_MAX - 1) // 2
    assert {score for _, _, score in pairs} == {"0.700"}
    assert crowd[0].pk not in {pk for first, second, _ in pairs for pk in (first, second)}
    assert pairs == computed(us)

    create(us, "Another", phone="+1 415-555-0100")
    assert stored(us) == [] == computed(us)


def test_other_organizations_pairs_are_their_own(us, other_tenant):
    create(us, "Acme Corp.", "billing@acme.test")
    create(us, "ACME Corporation", "billing@acme.test")
    theirs = other_tenant.organization
    create(theirs, "Acme Corp.", "billing@acme.test")

    assert len(stored(us)) == 1
    assert stored(theirs) == []
    assert not CustomerDuplicatePair.objects.filter(organization=theirs).exists()


def test_a_large_import_asks_for_a_rebuild_and_gets_the_same_pairs(us, tmp_path, monkeypatch):
    monkeypatch.setattr(duplicates, "REBUILD_CUSTOMERS", 2)
    create(us, "Acme Corp.", "billing@acme.test")
    path = write_csv(
        tmp_path / "big.csv",
        rows(
            ["business", "ACME Corporation", "", "BILLING@acme.test", "USD"],
            ["business", "Globex", "", "ap@globex.test", "USD"],
            ["business", "Globex Inc", "", "", "USD"],
        ),
    )
    with path.open("rb") as stream:
        services.customer_import(organization=us, stream=stream, fmt="csv", actor=ACTOR)

    # The import caught up itself, by rebuilding: no change is left for the next report.
    assert not CustomerSignalChange.objects.filter(organization=us).exists()
    assert stored(us) == computed(us)
    assert len(stored(us)) == 2


def test_catching_up_with_nothing_to_do_is_one_read(us, django_assert_num_queries):
    create(us, "Acme Corp.", "billing@acme.test")
    create(us, "ACME Corporation", "billing@acme.test")
    duplicates.catch_up(us.pk)

    with django_assert_num_queries(1):
        duplicates.catch_up(us.pk)
    assert CustomerDuplicatePair.objects.filter(organization=us).count() == 1
