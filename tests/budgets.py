"""Query budgets that depend on the database the tests run on."""

from django.db import connection

# Statements of one customer edit's write, its history row numbered as an event included
# (customers.queries.customer_edit): one statement on PostgreSQL; elsewhere the UPDATE, the
# event counter and the INSERT.
EDIT_STATEMENTS = 1 if connection.vendor == "postgresql" else 3
# Duplicate detection on create (customers/duplicates.py): one lookup of the customers sharing a
# signal (on PostgreSQL with the trigram-similar names in the same statement), and the INSERT of
# the new customer's signals. Candidates are read only when there are some.
CREATE_SIGNAL_STATEMENTS = 2
# An edit of what identifies a customer (names, emails, phones, code) rewrites its signals: on
# PostgreSQL inside the edit's one statement (two more CTEs); elsewhere a DELETE and an INSERT.
IDENTITY_EDIT_STATEMENTS = 0 if connection.vendor == "postgresql" else 2
# Deleting customers deletes their signals: one DELETE.
DELETE_SIGNAL_STATEMENTS = 1
