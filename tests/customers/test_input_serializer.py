from customers.api.serializers import CustomerUpdateSerializer


def test_put_and_patch_keep_their_own_rules_whichever_comes_first():
    for _ in range(2):
        patch = CustomerUpdateSerializer(data={"note": "x"}, partial=True)
        put = CustomerUpdateSerializer(data={"note": "x"})

        assert patch.is_valid(), patch.errors
        assert not put.is_valid()
        assert set(put.errors) == {"customerType", "displayName"}


def test_one_requests_errors_and_data_do_not_reach_the_next():
    bad = CustomerUpdateSerializer(data={"active": "yes"}, partial=True)
    good = CustomerUpdateSerializer(data={"active": False}, partial=True)

    assert not bad.is_valid()
    assert good.is_valid(), good.errors
    assert good.validated_data == {"active": False}
    assert set(bad.errors) == {"active"}
