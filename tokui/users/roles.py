"""What each role may do, and over which customers: the one table every check reads.

Resources are the things a permission is about; actions are view, add, change and
delete. A value is the scope the permission reaches (see ``Scope``); a missing entry
means the role may not do it at all.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .choices import Role, Scope

CUSTOMER = "customer"  # the card and everything on it: people, addresses, consent
CARD_HISTORY = "card_history"
FIELD_DEFINITION = "field_definition"
USER = "user"
ACCESS_LOG = "access_log"  # who read which cards (GOV-1); its unusual-volume alerts below
ACCESS_ALERT = "access_alert"
# Change requests of controlled fields (GOV-2): "add" asks, "change" decides.
CHANGE_REQUEST = "change_request"
# The trash of deleted cards: "view" lists it, "change" restores, "delete" purges.
TRASH = "trash"
# Products are master data the whole company shares: not scoped to customers.
PRODUCT = "product"

_ALL_ACTIONS = ("view", "add", "change", "delete")

PERMISSIONS: dict[str, dict[str, dict[str, str]]] = {
    Role.ADMINISTRATOR: {
        CUSTOMER: dict.fromkeys(_ALL_ACTIONS, Scope.ALL),
        CARD_HISTORY: {"view": Scope.ALL},
        FIELD_DEFINITION: dict.fromkeys(_ALL_ACTIONS, Scope.ALL),
        USER: dict.fromkeys(_ALL_ACTIONS, Scope.ALL),
        ACCESS_LOG: {"view": Scope.ALL},
        ACCESS_ALERT: {"view": Scope.ALL},
        PRODUCT: dict.fromkeys(_ALL_ACTIONS, Scope.ALL),
        CHANGE_REQUEST: {"view": Scope.ALL, "add": Scope.ALL, "change": Scope.ALL},
        TRASH: {"view": Scope.ALL, "change": Scope.ALL, "delete": Scope.ALL},
    },
    Role.MANAGER: {
        CUSTOMER: dict.fromkeys(_ALL_ACTIONS, Scope.AREA),
        CARD_HISTORY: {"view": Scope.AREA},
        FIELD_DEFINITION: {"view": Scope.ALL},
        PRODUCT: {"view": Scope.ALL, "add": Scope.ALL, "change": Scope.ALL},
        CHANGE_REQUEST: {"view": Scope.AREA, "add": Scope.AREA, "change": Scope.AREA},
    },
    Role.ACCOUNT_MANAGER: {
        CUSTOMER: {"view": Scope.OWN, "add": Scope.OWN, "change": Scope.OWN},
        CARD_HISTORY: {"view": Scope.OWN},
        PRODUCT: {"view": Scope.ALL},
        CHANGE_REQUEST: {"view": Scope.OWN, "add": Scope.OWN},
    },
    # The service desk answers whoever calls, so it reads every card but edits none.
    Role.SERVICE_AGENT: {
        CUSTOMER: {"view": Scope.ALL},
        PRODUCT: {"view": Scope.ALL},
    },
    # Analysts work on aggregates: no card, no personal data.
    Role.ANALYST: {},
    Role.AUDITOR: {
        CUSTOMER: {"view": Scope.ALL},
        ACCESS_LOG: {"view": Scope.ALL},
        CARD_HISTORY: {"view": Scope.ALL},
        FIELD_DEFINITION: {"view": Scope.ALL},
        PRODUCT: {"view": Scope.ALL},
        CHANGE_REQUEST: {"view": Scope.ALL},
        TRASH: {"view": Scope.ALL},
    },
}


def scope_for(user, resource: str, action: str) -> str | None:
    """The scope ``user`` has for ``action`` on ``resource``, or None when refused."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return PERMISSIONS.get(user.role, {}).get(resource, {}).get(action)


def has_permission(user, resource: str, action: str) -> bool:
    return scope_for(user, resource, action) is not None


def require_permission(user, resource: str, action: str) -> None:
    """Refuse (403) a role that may not ``action`` on ``resource`` at all; scope is the
    queryset's business (``.restrict``), which answers 404 outside it."""
    if not has_permission(user, resource, action):
        raise PermissionDenied(_("Your role may not do this."))
