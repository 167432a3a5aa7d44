"""Error bodies every API endpoint shares, so each operation's OpenAPI entry lists them.

Kept apart from ``api.py`` so an app's router can import them without importing the
API instance that registers that very router.
"""

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    detail: str


class ConflictOut(Schema):
    detail: str
    current_version: int


class ValidationErrorItem(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[ValidationErrorItem]


# Responses shared by the endpoints, so the OpenAPI document lists every status they give.
LIST_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut}
READ_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 422: ValidationErrorOut}
UPDATE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ConflictOut}
