from tokui.users.choices import Scope
from tokui.users.roles import CUSTOMER, FIELD_DEFINITION, has_permission, scope_for


def navigation(request):
    """What the menu may offer the signed-in user."""
    user = getattr(request, "user", None)
    return {
        "nav": {
            "customers": has_permission(user, CUSTOMER, "view"),
            "add_customer": has_permission(user, CUSTOMER, "add"),
            "field_definitions": has_permission(user, FIELD_DEFINITION, "view"),
            # Handing customers over needs a reach wider than one's own cards.
            "handover": scope_for(user, CUSTOMER, "change") in (Scope.ALL, Scope.AREA),
        }
    }
