"""Background work on the cards. django-tasks has no scheduler: cron or a systemd timer
runs ``tokui trash --purge`` daily (docs/trash.md), or code enqueues ``purge_trash``."""

from django_tasks import task


@task()
def purge_trash() -> int:
    """Delete for good the cards past the trash's retention; returns how many went."""
    from . import services

    return len(services.customers_purge())
