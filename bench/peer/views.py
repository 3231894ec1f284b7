"""GET, PUT and the list of /api/customers written the usual DRF way, on Counterpart's own tables.

A ModelSerializer of every field, a ModelViewSet scoped by the key's organization, camelCase
through djangorestframework-camel-case, and a token class (authentication.py) that looks the key
up with `select_related`: what most DRF codebases serving this resource look like. Its list is
DRF's PageNumberPagination (`page`, `pageSize`) and SearchFilter (`searchKeyword`, `icontains` on
the columns Counterpart searches), newest first. It does less than Counterpart (no history rows,
no version or ETag, no rate limit, no strict unknown-field checks), so Counterpart's ratio to it
understates the gap.
"""

from rest_framework import filters, pagination, serializers, viewsets

from customers.models import Customer
from customers.search import SEARCHED_ATTRIBUTES


class CustomerSerializer(serializers.ModelSerializer):
    billing_address_zipcode = serializers.CharField(
        source="billing_address_postcode", required=False, allow_blank=True
    )
    shipping_address_zipcode = serializers.CharField(
        source="shipping_address_postcode", required=False, allow_blank=True
    )

    class Meta:
        model = Customer
        exclude = ["organization"]
        read_only_fields = [
            "currency_code",
            "opening_balance",
            "opening_balance_at",
            "opening_balance_exchange_rate",
            "opening_balance_branch",
            "balance",
            "version",
            "created_at",
            "updated_at",
        ]


class CustomerPagination(pagination.PageNumberPagination):
    page_size = 12
    page_size_query_param = "pageSize"
    max_page_size = 100


class CustomerViewSet(viewsets.ModelViewSet):
    serializer_class = CustomerSerializer
    pagination_class = CustomerPagination
    filter_backends = [filters.SearchFilter]
    search_fields = list(SEARCHED_ATTRIBUTES)  # the columns Counterpart's searchKeyword searches

    def get_queryset(self):
        return Customer.objects.filter(organization=self.request.auth.organization).order_by(
            "-created_at", "-id"
        )
