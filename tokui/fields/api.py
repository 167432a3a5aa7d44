"""REST endpoints for the field rules: who may see and edit each category of the card.

Same permission as the "Who sees what" page: readers of the card fields (administrators,
managers, auditors) read the grid, administrators change it; any other role gets 403.
"""

from ninja import Field, Router, Schema

from tokui.core.api_schemas import ErrorOut, ValidationErrorOut
from tokui.users.choices import Role
from tokui.users.roles import FIELD_DEFINITION, require_permission

from . import services
from .access import category_rules
from .choices import Category

router = Router()

RULES = ["field rules"]


class RuleOut(Schema):
    category: Category
    role: Role
    can_view: bool = Field(description="The role sees this category's parts of the card.")
    can_edit: bool = Field(description="The role may change them (with its right to edit).")


class RuleIn(RuleOut):
    model_config = {"extra": "forbid"}


class RulesIn(Schema):
    model_config = {"extra": "forbid"}

    rules: list[RuleIn] = Field(
        description="The (category, role) pairs to set; pairs not listed keep their rule."
    )


def _require(request, action: str) -> None:
    require_permission(request.auth, FIELD_DEFINITION, action)


def _grid() -> list[dict]:
    rules = category_rules()
    return [
        {
            "category": category,
            "role": role,
            "can_view": category in rules.get(role, ((), ()))[0],
            "can_edit": category in rules.get(role, ((), ()))[1],
        }
        for category in Category.values
        for role in Role.values
    ]


@router.get(
    "/field-rules",
    response={200: list[RuleOut], 401: ErrorOut, 403: ErrorOut},
    tags=RULES,
    summary="Who sees and edits each card category",
)
def field_rules_get(request):
    """Every (category, role) pair with the rule in force: stored, or the default."""
    _require(request, "view")
    return _grid()


@router.put(
    "/field-rules",
    response={200: list[RuleOut], 401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut},
    tags=RULES,
    summary="Set who sees and edits card categories",
)
def field_rules_set(request, payload: RulesIn):
    """Administrators only. Editing without seeing is refused (422) and nothing is saved;
    each rule that changes is a row of the change log."""
    _require(request, "change")
    services.category_rules_set(
        actor=request.auth,
        rules={(r.category, r.role): (r.can_view, r.can_edit) for r in payload.rules},
    )
    return _grid()
