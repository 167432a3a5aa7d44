"""Background work on the access records. django-tasks has no scheduler: cron or a systemd
timer runs ``tokui access_check`` daily (docs/access-records.md), or code enqueues these."""

import datetime

from django.utils import timezone
from django_tasks import task

from . import services


def yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


@task()
def check_access_volume(day: str | None = None) -> int:
    """Flag unusual volume on ``day`` (ISO date; default yesterday); returns alerts made."""
    when = datetime.date.fromisoformat(day) if day else yesterday()
    return len(services.check_access_volume(day=when))


@task()
def purge_access_records() -> int:
    """Delete access records past the retention period; returns how many went."""
    return services.purge_access_records()
