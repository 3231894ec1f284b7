"""What the webhooks app does when a transaction writes an organization's events."""

from . import tasks


def queue_dispatch(sender, organization_id: int, **kwargs) -> None:
    """Queue the organization's dispatch job in the transaction that wrote its events: the job
    exists if and only if they commit, and runs only once they have."""
    tasks.queue_dispatch(organization_id)
