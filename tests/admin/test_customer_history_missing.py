"""A customer's history page for a customer the user cannot see: back to the index, with a note."""

from django.contrib.messages import get_messages
from django.urls import reverse

from customers.models import Customer


def test_history_of_another_organizations_customer_redirects_with_a_warning(
    staff_client, other_tenant
):
    url = reverse("admin:customers_customer_history", args=[other_tenant.customer.pk])

    response = staff_client.get(url)

    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    [message] = get_messages(response.wsgi_request)
    assert (
        str(message)
        == f"No customer has the ID '{other_tenant.customer.pk}'; perhaps it was deleted."
    )
    assert Customer.objects.filter(pk=other_tenant.customer.pk).exists()
