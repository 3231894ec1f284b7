"""GET and PUT /api/customers/{id} written the usual DRF way, on Counterpart's own tables.

A ModelSerializer of every field, a ModelViewSet scoped by the key's organization, camelCase
through djangorestframework-camel-case, and a token class (authentication.py) that looks the key
up with `select_related`: what most DRF codebases serving this resource look like. It does less than
Counterpart (no history rows, no version or ETag, no rate limit, no strict unknown-field checks),
so Counterpart's ratio to it understates the gap.
"""

from rest_framework import serializers, viewsets

from customers.models import Customer


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


class CustomerViewSet(viewsets.ModelViewSet):
    serializer_class = CustomerSerializer

    def get_queryset(self):
        return Customer.objects.filter(organization=self.request.auth.organization)
