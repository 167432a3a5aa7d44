"""The REST API at /api/v1/: authentication, error shapes, and the routers of each app.

Every error answers with a JSON body whose ``detail`` says what went wrong:
401 not signed in, 403 not allowed, 404 not found (or out of the caller's scope: the
API never reveals that a customer exists to someone who may not see it), 409 edit
conflict, 422 invalid input in ninja's own shape
``{"detail": [{"loc": ["body", "name"], "msg": "…", "type": "…"}]}``.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from tokui.core.exceptions import EditConflict
from tokui.users.choices import TokenScope
from tokui.users.services import token_authenticate

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Every endpoint takes its JSON body in a parameter of this name; error locations
# leave it out so they read ["body", "name"] whether the schema or a service refused.
BODY = "payload"


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` with a personal API token (``tokui token create``)."""

    def authenticate(self, request, token):
        api_token = token_authenticate(token)
        if api_token is None:
            # A wrong token is an error even when a session cookie is present too:
            # falling back silently would hide the client's mistake.
            raise AuthenticationError(message=_("The API token is unknown, expired or revoked."))
        if api_token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise AuthorizationError(message=_("This API token may only read."))
        request.api_token = api_token
        return api_token.user


class BrowserSession(APIKeyCookie):
    """The signed-in browser session, so the interactive docs work for a user who is logged in.

    Unlike ninja's SessionAuth, a request without a signed-in user is simply not
    authenticated here (401), and CSRF is checked only for a session that is.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if (
            self.csrf
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise AuthorizationError(message=_("The CSRF check failed; reload the page."))
        return user


class Utf8JSONRenderer(JSONRenderer):
    """Japanese and Korean names as themselves (UTF-8), not as \\uXXXX escapes."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="Tokui API",
    version="1",
    description=(
        "Customer cards and the people around them. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `tokui token create`)."
    ),
    urls_namespace="api",
    auth=[BearerToken(), BrowserSession()],
    renderer=Utf8JSONRenderer(),
)


def _detail(request, message, status: int, **extra):
    return api.create_response(request, {"detail": str(message), **extra}, status=status)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    message = exc.message if exc.message != "Unauthorized" else _("Authentication required.")
    response = _detail(request, message, 401)
    response["WWW-Authenticate"] = 'Bearer realm="tokui"'
    return response


@api.exception_handler(HttpError)
def http_error(request, exc):
    return _detail(request, exc.message, exc.status_code)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _detail(request, _("Not found."), 404)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return _detail(request, str(exc) or _("You may not do this."), 403)


@api.exception_handler(EditConflict)
def edit_conflict(request, exc):
    return _detail(request, exc.message, 409, current_version=exc.current_version)


@api.exception_handler(NinjaValidationError)
def invalid_request(request, exc):
    errors = []
    for error in exc.errors:
        loc = list(error.get("loc", ()))
        if loc[:2] == ["body", BODY]:
            loc = ["body", *loc[2:]]
        errors.append({**error, "loc": loc})
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(DjangoValidationError)
def refused_by_service(request, exc):
    return api.create_response(request, {"detail": validation_errors(exc)}, status=422)


def validation_errors(exc: DjangoValidationError) -> list[dict]:
    """A service's ValidationError in ninja's 422 shape.

    Keys are model field names, or ``fields.<key>`` for a configurable card field, which
    becomes the location ``["body", "fields", "<key>"]``.
    """
    if not hasattr(exc, "error_dict"):
        return [{"loc": ["body"], "msg": m, "type": "value_error"} for m in exc.messages]
    errors = []
    for key, field_errors in exc.error_dict.items():
        if key == "__all__":
            loc = ["body"]
        elif key.startswith("fields."):
            loc = ["body", "fields", key.removeprefix("fields.")]
        else:
            loc = ["body", key]
        for error in field_errors:
            for message in error.messages:
                errors.append({"loc": loc, "msg": message, "type": error.code or "invalid"})
    return errors


api.add_router("", "tokui.customers.api.router")
api.add_router("", "tokui.customers.api_trash.router")
api.add_router("", "tokui.sales.api.router")
api.add_router("", "tokui.approvals.api.router")
api.add_router("", "tokui.fields.api.router")
