"""Row-level scope, enforced in one place.

Every list, detail, search, API call and export reads customers (and rows that hang
off a customer) through ``.restrict(user, action)``. A model opts in by naming the
permission resource it belongs to and the lookup path from it to its customer.

A card in the trash (``Customer.deleted_at`` set) and every row hanging off it are left
out of ``restrict()`` for every role, administrators included: the trash has its own
permission and its own read, ``restrict_trash()``.
"""

from django.db import models
from django.db.models import Q

from tokui.users.choices import Scope
from tokui.users.roles import TRASH, scope_for


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        scope = scope_for(user, self.model.scope_resource, action)
        if scope is None:
            return self.none()
        live = self.filter(not_trashed_q(self.model.scope_customer_path))
        if scope == Scope.ALL:
            return live
        return live.filter(customer_scope_q(user, scope, self.model.scope_customer_path))

    def restrict_trash(self, user, action: str = "view"):
        """Cards in the trash (only the card model) that ``user`` may ``action`` in the trash."""
        if self.model.scope_customer_path != "":
            raise TypeError("restrict_trash() reads cards, not the rows hanging off them")
        scope = scope_for(user, TRASH, action)
        if scope is None:
            return self.none()
        trashed = self.filter(deleted_at__isnull=False)
        if scope == Scope.ALL:
            return trashed
        return trashed.filter(customer_scope_q(user, scope, ""))


def not_trashed_q(path: str) -> Q:
    """The condition that leaves out rows of cards in the trash.

    On the card itself it is one column. For rows reached through ``path`` it compares the
    row's own foreign key with the (small) set of trashed card ids instead of joining the
    customer table, so order lines and figures are not joined to every card to find none.
    """
    from tokui.customers.models import Customer  # the kernel knows the card, not vice versa

    if path == "":
        return Q(deleted_at__isnull=True)
    trashed = Customer._base_manager.filter(deleted_at__isnull=False).values("pk")
    return ~Q(**{f"{path[:-2]}__in": trashed})


def customer_scope_q(user, scope: str, path: str) -> Q:
    """The condition that limits rows reached through ``path`` to the user's customers.

    ``path`` is the lookup prefix from the queried model to the customer ("" for the
    customer itself, "customer__" for a person).
    """
    from tokui.customers.models import Customer  # the kernel knows the card, not vice versa

    if scope == Scope.AREA:
        if user.area_id is None:
            return Q(pk__in=[])
        return Q(**{f"{path}area__path__startswith": user.area.path})
    if scope == Scope.OWN:
        # The assigned ids are read first and passed as a list: with an EXISTS here the
        # PostgreSQL planner overestimates the rows by an order of magnitude and walks the
        # whole name index (see docs/performance.md). A list also never repeats a customer.
        assigned_ids = list(
            Customer.assigned_users.through.objects.filter(user_id=user.pk).values_list(
                "customer_id", flat=True
            )
        )
        condition = Q(**{f"{path}owner_id": user.pk})
        if assigned_ids:
            condition |= Q(**{f"{path}pk__in": assigned_ids})
        return condition
    raise ValueError(f"unknown scope {scope!r}")
