"""Bulk writes of card fields happen only inside a service that records them.

``QuerySet.update()`` skips ``save()`` and therefore the audit log: a stray
``Customer.objects.filter(...).update(name=...)`` would change cards with no history
(issue 3, point 7). The customer queryset refuses such updates unless the caller has
opened ``bulk_write_allowed()``, which a service does once it has written the
matching history rows itself.
"""

import contextlib
import contextvars

_allowed = contextvars.ContextVar("tokui_bulk_write_allowed", default=False)


class UnrecordedBulkWrite(Exception):
    """A queryset update of card fields outside a service: it would leave no history."""


@contextlib.contextmanager
def bulk_write_allowed():
    """Let the enclosed code ``.update()`` card fields; the caller records the history."""
    token = _allowed.set(True)
    try:
        yield
    finally:
        _allowed.reset(token)


def bulk_writes_allowed() -> bool:
    return _allowed.get()
