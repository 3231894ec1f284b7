"""Query budgets that depend on the database the tests run on."""

from django.db import connection

# Statements of one customer edit's write, its history row numbered as an event included
# (customers.queries.customer_edit): one statement on PostgreSQL; elsewhere the UPDATE, the
# event counter and the INSERT.
EDIT_STATEMENTS = 1 if connection.vendor == "postgresql" else 3
