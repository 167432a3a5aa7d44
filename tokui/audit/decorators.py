"""Recording API reads: one access record per request, however many cards it returned."""

from functools import wraps

from .choices import AccessAction
from .services import record_access


def records_list_read(view):
    """Put between ``@router.get`` and ``@paginate``: records the page the caller received.

    One row per request (not per card) carrying how many cards the page held and the
    query string that chose them. A refused request raises before it returns, so nothing
    is recorded for it.
    """

    @wraps(view)
    def view_recording_access(request, **kwargs):
        result = view(request, **kwargs)
        items = result.get("items", []) if isinstance(result, dict) else []
        record_access(
            actor=request.auth,
            action=AccessAction.API_READ,
            count=len(items),
            filters=query_of(request),
            request=request,
        )
        return result

    return view_recording_access


def query_of(request) -> dict:
    """The query string as a dict: one value as itself, a repeated key as a list."""
    return {key: values[0] if len(values) == 1 else values for key, values in request.GET.lists()}


def record_card_read(request, customer_id: int) -> None:
    """An API read of one card (the customer, one of its people, or its people list)."""
    record_access(
        actor=request.auth,
        action=AccessAction.API_READ,
        customer_ids=[customer_id],
        request=request,
    )
