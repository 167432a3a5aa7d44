"""Who may see and edit which part of the card (GOV-1, GOV-2, CARD-3).

Every part of the card belongs to a category: the configurable fields by their
definition, the built-in parts by ``BUILT_IN_PARTS``. A role sees a category when its
rule says so (``CategoryRule`` rows, falling back to ``DEFAULT_RULES``); a field whose
definition lists roles of its own follows that list instead (sensitive fields).

The card's identity (code, name, kind, status, owner, area) belongs to no category:
whoever may open the card sees it, or the card could not be listed at all.

Read it once per request with ``card_access(user)`` and ask it; never test roles in views.
"""

import dataclasses

from django.utils.translation import gettext_lazy as _

from tokui.users.choices import Role

from .choices import Category

# Built-in parts of the card and the category each belongs to.
BUILT_IN_PARTS: dict[str, str] = {
    "preferred_channel": Category.BASIC,
    "notes": Category.BASIC,
    "tags": Category.BASIC,
    "assigned_users": Category.BASIC,
    "phone": Category.PERSONAL,
    "email": Category.PERSONAL,
    "people": Category.PERSONAL,
    "addresses": Category.PERSONAL,
    "consent": Category.PERSONAL,
}

# How a refusal or a page names a built-in part.
PART_LABELS = {
    "preferred_channel": _("preferred channel"),
    "notes": _("notes"),
    "tags": _("tags"),
    "assigned_users": _("assigned staff"),
    "phone": _("phone"),
    "email": _("e-mail"),
    "people": _("people"),
    "addresses": _("addresses"),
    "consent": _("consent"),
}

_ALL = frozenset(Category.values)
_NO_MANAGEMENT = _ALL - {Category.MANAGEMENT}

# (may see, may edit) per role, used where no CategoryRule row says otherwise. Editing
# still needs the role's change permission on the customer (users.roles).
DEFAULT_RULES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    Role.ADMINISTRATOR: (_ALL, _ALL),
    Role.MANAGER: (_ALL, _ALL),
    Role.ACCOUNT_MANAGER: (_ALL, _ALL),
    # The service desk needs who the customer is and how to reach them, not their credit.
    Role.SERVICE_AGENT: (_NO_MANAGEMENT, frozenset()),
    Role.ANALYST: (frozenset(), frozenset()),
    Role.AUDITOR: (_ALL, frozenset()),
}

# Roles whose edits of a controlled field apply at once: they are the approvers.
APPROVER_ROLES = frozenset({Role.ADMINISTRATOR, Role.MANAGER})

# The card's identity: whoever may open the card sees it (see the module docstring).
IDENTITY_PARTS = frozenset(
    {"code", "name", "name_reading", "kind", "status", "owner", "area", "version"}
)

# Rows hanging off the card, and the built-in part each one is (for the change log).
RECORD_PARTS: dict[str, str] = {
    "customers.person": "people",
    "customers.address": "addresses",
    "customers.consent": "consent",
}


def change_part(object_type: str, name: str | None) -> str | None:
    """The card part a recorded change belongs to; None when it is no part (identity,
    orders, configuration), which whoever may read the row sees."""
    if object_type in RECORD_PARTS:
        return RECORD_PARTS[object_type]
    if object_type != "customers.customer" or not name:
        return None
    if name.startswith("fields."):
        return name.removeprefix("fields.")
    return name if name in BUILT_IN_PARTS else None


@dataclasses.dataclass(frozen=True)
class CardAccess:
    """What one user may see and edit on any card, by part and by field key."""

    role: str
    viewable_categories: frozenset[str]
    editable_categories: frozenset[str]
    # Per configurable field (by key): may see, may edit, edits wait for approval.
    visible_keys: frozenset[str]
    editable_keys: frozenset[str]
    controlled_keys: frozenset[str]
    # Field keys that exist (retired ones included) but this user may not see.
    hidden_keys: frozenset[str] = frozenset()

    def can_view(self, part: str) -> bool:
        """A built-in part ("phone", "people", …), an identity attribute or a field's key."""
        if part in IDENTITY_PARTS:
            return bool(self.role)
        category = BUILT_IN_PARTS.get(part)
        if category is not None:
            return category in self.viewable_categories
        return part in self.visible_keys

    def can_edit(self, part: str) -> bool:
        """Editing still needs the change permission and scope on the card itself."""
        if part in IDENTITY_PARTS:
            return bool(self.role)
        category = BUILT_IN_PARTS.get(part)
        if category is not None:
            return category in self.editable_categories
        return part in self.editable_keys

    def needs_approval(self, key: str) -> bool:
        return key in self.controlled_keys

    def visible_values(self, field_values: dict | None) -> dict:
        """The card-field values this user may see; hidden keys are absent, not blank."""
        return {k: v for k, v in (field_values or {}).items() if k in self.visible_keys}

    def can_view_change(self, object_type: str, name: str | None) -> bool:
        """Whether the old and new values of one recorded change may be shown."""
        part = change_part(object_type, name)
        return part is None or self.can_view(part)

    @property
    def sees_everything(self) -> bool:
        """Every category and every field: what a complete privacy export needs."""
        return (
            bool(self.role)
            and self.viewable_categories >= frozenset(Category.values)
            and not self.hidden_keys
        )


def card_access(user) -> CardAccess:
    """The user's access, computed once and kept on the user object for the request.

    A user object outlives a request only in tests and scripts; ``forget_card_access``
    drops the kept copy after the rules change.
    """
    cached = getattr(user, "_card_access", None)
    if cached is not None:
        return cached
    access = _compute(user)
    if user is not None and getattr(user, "is_authenticated", False):
        user._card_access = access
    return access


def part_label(part: str) -> str:
    """A part's name for people: a built-in part's label or a card field's label."""
    if part in PART_LABELS:
        return str(PART_LABELS[part])
    from .models import FieldDefinition

    definition = FieldDefinition.objects.filter(key=part).first()
    return definition.display_label if definition else part


def forget_card_access(user) -> None:
    if user is not None and hasattr(user, "_card_access"):
        del user._card_access


def category_rules() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Every role's (may see, may edit) categories: the stored rules over the defaults."""
    from .models import CategoryRule

    rules = {role: (set(view), set(edit)) for role, (view, edit) in DEFAULT_RULES.items()}
    for rule in CategoryRule.objects.all():
        view, edit = rules.setdefault(rule.role, (set(), set()))
        (view.add if rule.can_view else view.discard)(rule.category)
        (edit.add if rule.can_edit else edit.discard)(rule.category)
    return {role: (frozenset(view), frozenset(edit)) for role, (view, edit) in rules.items()}


def _compute(user) -> CardAccess:
    from .models import FieldDefinition

    role = getattr(user, "role", "") if getattr(user, "is_authenticated", False) else ""
    if not role or not getattr(user, "is_active", False):
        # No role: an inactive account sees nothing, not even a card's identity.
        return CardAccess("", frozenset(), frozenset(), frozenset(), frozenset(), frozenset())
    viewable, editable = category_rules().get(role, (frozenset(), frozenset()))
    visible, editable_keys, controlled, hidden = set(), set(), set(), set()
    for key, category, view_roles, edit_roles, is_controlled in FieldDefinition.objects.values_list(
        "key", "category", "view_roles", "edit_roles", "controlled"
    ):
        may_view = role in view_roles if view_roles else category in viewable
        may_edit = may_view and (role in edit_roles if edit_roles else category in editable)
        (visible if may_view else hidden).add(key)
        if may_edit:
            editable_keys.add(key)
            if is_controlled and role not in APPROVER_ROLES:
                controlled.add(key)
    return CardAccess(
        role,
        frozenset(viewable),
        frozenset(editable & viewable),
        frozenset(visible),
        frozenset(editable_keys),
        frozenset(controlled),
        frozenset(hidden),
    )
