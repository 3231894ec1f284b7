"""Query budgets that depend on the database the tests run on."""

import os

from django.db import connection

# On a Citus coordinator (make test-citus says so: the budgets are fixed when tests are collected,
# before the database can be asked; tests/conftest.py checks it agrees) the edit runs as separate
# statements, each routed to the organization's shard (customers.queries.customer_edit).
CITUS = os.environ.get("COUNTERPART_TEST_CITUS") == "1"
ONE_STATEMENT_EDIT = connection.vendor == "postgresql" and not CITUS

# Statements of one customer edit's write, its history row numbered as an event included
# (customers.queries.customer_edit): one statement on PostgreSQL; elsewhere the UPDATE, the
# event counter and the INSERT.
EDIT_STATEMENTS = 1 if ONE_STATEMENT_EDIT else 3
# Duplicate detection on create (customers/duplicates.py): one lookup of the customers sharing a
# signal (on PostgreSQL with the trigram-similar names in the same statement), the INSERT of the
# new customer's signals, and the same rows as changes for the duplicate report. Candidates are
# read only when there are some.
CREATE_SIGNAL_STATEMENTS = 3
# An edit of what identifies a customer (names, emails, phones, code) rewrites its signals and
# notes them as changes: on PostgreSQL inside the edit's one statement (three more CTEs);
# elsewhere the old signals copied as changes, their DELETE, and the INSERTs of the new signals
# and of their changes.
IDENTITY_EDIT_STATEMENTS = 0 if ONE_STATEMENT_EDIT else 4
# Deleting customers deletes their signals: copied as changes, then one DELETE.
DELETE_SIGNAL_STATEMENTS = 2
