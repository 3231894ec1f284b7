"""Query budgets that depend on the database the tests run on."""

from django.db import connection

# Statements of one customer edit's write, its history row included
# (customers.queries.customer_edit): one statement on PostgreSQL, the UPDATE and the INSERT
# elsewhere.
EDIT_STATEMENTS = 1 if connection.vendor == "postgresql" else 2
