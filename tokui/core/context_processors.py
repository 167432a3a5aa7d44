from tokui.users.roles import CUSTOMER, FIELD_DEFINITION, has_permission


def navigation(request):
    """What the menu may offer the signed-in user."""
    user = getattr(request, "user", None)
    return {
        "nav": {
            "customers": has_permission(user, CUSTOMER, "view"),
            "add_customer": has_permission(user, CUSTOMER, "add"),
            "field_definitions": has_permission(user, FIELD_DEFINITION, "view"),
        }
    }
