"""Deny by default: every route of the site is in this matrix, or the suite fails.

``test_every_route_is_in_the_matrix`` walks Django's URL resolver (the pages and every
operation of the ninja API, which registers one named pattern per operation) and fails
when a route is neither in ``MATRIX`` nor in ``EXEMPT``. So a new page or endpoint cannot
land without someone writing down here who may reach it; the other tests then request
each route for real:

- anonymous: pages send the visitor to the log-in page (302), the API answers 401;
- an analyst, who may see no card: every route that shows or changes customer data
  refuses (403, or 404 where the route hides that the record exists), and no request
  writes anything.

``test_the_walk_catches_an_unlisted_route`` proves the check bites: it serves this
module's own URLconf (the site's plus one extra page) and expects exactly that page to
be reported as unlisted.
"""

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.urls.exceptions import NoReverseMatch

from config.urls import urlpatterns as site_urlpatterns
from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import AddressFactory, FieldDefinitionFactory, PersonFactory
from tokui.sales.choices import ImportKind
from tokui.sales.models import ImportJob
from tokui.sales.tests import builders
from tokui.users.choices import Role
from tokui.users.services import token_create

pytestmark = pytest.mark.django_db

LOGIN = 302  # a page sends an anonymous visitor to the log-in page
UNAUTHORISED = 401  # the API answers an anonymous caller with 401
FORBIDDEN = {403}
NOT_FOUND = {404}
REFUSED = {403, 404}
API = "api:"


@dataclasses.dataclass(frozen=True)
class Route:
    """What to send to a route and what must come back.

    ``args`` builds the URL arguments from the test's objects (``world``); ``analyst``
    is the set of statuses an analyst may get; ``customer_data`` says the route shows or
    changes customer data, which an analyst must never reach.
    """

    method: str
    anonymous: int
    analyst: set[int] | None
    customer_data: bool
    args: Callable[[dict], list] = lambda world: []
    body: Callable[[dict], dict] | None = None


def page(method="get", *, analyst=FORBIDDEN, customer_data=True, args=lambda world: []):
    return Route(method, LOGIN, analyst, customer_data, args)


def endpoint(method="get", *, analyst=NOT_FOUND, args=lambda world: [], body=None):
    return Route(method, UNAUTHORISED, analyst, True, args, body)


def code(world):
    return [world["customer"].code]


# Every route by its namespaced URL name. Kept in the order of the URLconfs.
MATRIX: dict[str, Route] = {
    "home": page(analyst={200}, customer_data=False),
    # the card
    "customers:list": page(),
    "customers:create": page(),
    "customers:duplicates": page(),
    "customers:handover": page(),
    "customers:merge": page(
        args=lambda world: [world["customer"].code, world["other_customer"].code]
    ),
    "customers:detail": page(args=code),
    "customers:edit": page(args=code),
    "customers:history": page(args=code),
    "customers:privacy_export": page(args=code),
    "customers:privacy_export_json": page(args=code),
    "customers:person_anonymise": page(
        "post", args=lambda world: [world["customer"].code, world["person"].pk]
    ),
    "customers:delete": page("post", args=code),
    "customers:consent": page("post", args=code),
    "customers:person_create": page(args=code),
    "customers:person_edit": page(args=lambda world: [world["customer"].code, world["person"].pk]),
    "customers:person_delete": page(
        "post", args=lambda world: [world["customer"].code, world["person"].pk]
    ),
    "customers:address_create": page(args=code),
    "customers:address_edit": page(
        args=lambda world: [world["customer"].code, world["address"].pk]
    ),
    "customers:address_delete": page(
        "post", args=lambda world: [world["customer"].code, world["address"].pk]
    ),
    # card field definitions: configuration, not customer data
    "fields:list": page(customer_data=False),
    "fields:create": page(customer_data=False),
    "fields:presets": page(customer_data=False),
    # field visibility per role: the "who sees what" grid
    "fields:rules": page(customer_data=False),
    "fields:edit": page(customer_data=False, args=lambda world: [world["definition"].key]),
    "fields:retire": page(
        "post", customer_data=False, args=lambda world: [world["definition"].key]
    ),
    # sales: products are master data; orders and payments belong to customers
    "sales:product_list": page(customer_data=False),
    "sales:product_create": page(customer_data=False),
    "sales:product_detail": page(customer_data=False, args=lambda world: [world["product"].code]),
    "sales:product_edit": page(customer_data=False, args=lambda world: [world["product"].code]),
    "sales:order_list": page(),
    "sales:order_create": page(),
    "sales:order_detail": page(args=lambda world: [world["order"].number]),
    "sales:order_cancel": page("post", args=lambda world: [world["order"].number]),
    "sales:payment_list": page(),
    "sales:payment_create": page(),
    "sales:export": page(args=lambda world: ["orders"]),
    # imports of cards and sales
    "imports:start": page(),
    "imports:detail": page(args=lambda world: [world["job"].pk]),
    "imports:map": page(args=lambda world: [world["job"].pk]),
    "imports:cancel": page("post", args=lambda world: [world["job"].pk]),
    "imports:rejections_csv": page(args=lambda world: [world["job"].pk]),
    # the audit trail: who read and who changed which cards
    "audit:access_log": page(),
    "audit:change_log": page(),
    # the API: scoped reads hide the record (404); a role without the permission gets 403
    f"{API}customer_list": endpoint(analyst=FORBIDDEN),
    f"{API}customer_create": endpoint(
        "post",
        analyst=FORBIDDEN,
        body=lambda world: {"code": "MATRIX-1", "kind": "company", "name": "Matrix"},
    ),
    f"{API}customer_detail": endpoint(args=code, analyst=REFUSED),
    f"{API}customer_update": endpoint(
        "patch", args=code, analyst=REFUSED, body=lambda world: {"version": 1, "name": "X"}
    ),
    f"{API}customer_delete": endpoint("delete", args=code, analyst=REFUSED),
    f"{API}person_list": endpoint(args=code, analyst=REFUSED),
    f"{API}person_create": endpoint(
        "post", args=code, analyst=REFUSED, body=lambda world: {"relation": "contact", "name": "X"}
    ),
    f"{API}person_detail": endpoint(args=lambda world: [world["person"].pk], analyst=REFUSED),
    f"{API}person_update": endpoint(
        "patch",
        args=lambda world: [world["person"].pk],
        analyst=REFUSED,
        body=lambda world: {"version": 1, "name": "X"},
    ),
    f"{API}person_delete": endpoint(
        "delete", args=lambda world: [world["person"].pk], analyst=REFUSED
    ),
    f"{API}product_list": Route("get", UNAUTHORISED, FORBIDDEN, False),
    f"{API}product_detail": Route(
        "get", UNAUTHORISED, FORBIDDEN, False, lambda world: [world["product"].code]
    ),
    f"{API}order_list": endpoint(analyst=REFUSED),
    f"{API}order_detail": endpoint(args=lambda world: [world["order"].number], analyst=REFUSED),
    f"{API}payment_list": endpoint(analyst=REFUSED),
}

# Routes outside the matrix, each with the reason it needs no permission check here.
EXEMPT: dict[str, str] = {
    "login": "the log-in page is for anonymous visitors",
    "logout": "logging out needs no permission",
    "set_language": "i18n: switching the language shows no data",
    "users:otp_setup": "two-factor set-up: every signed-in user sets up their own device",
    "users:otp_verify": "two-factor check at log-in, before any data",
    f"{API}openapi-json": "the API's schema: describes endpoints, holds no data",
    f"{API}openapi-view": "the API's interactive docs: no data",
    f"{API}api-root": "ninja's index of the API, no data",
}


def walk(resolver: URLResolver, namespace: str = "", prefix: str = "") -> Iterator[tuple]:
    """``(namespaced name, route)`` for every pattern, descending into every include()."""
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            # An unnamed route goes by its path, so it cannot hide from the matrix.
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route


def unlisted_routes(urlconf=None) -> list[str]:
    listed = MATRIX.keys() | EXEMPT.keys()
    return sorted(
        f"{name} ({route})" for name, route in walk(get_resolver(urlconf)) if name not in listed
    )


def test_every_route_is_in_the_matrix():
    assert unlisted_routes() == []


def test_the_matrix_lists_no_route_that_has_gone():
    names = {name for name, _route in walk(get_resolver())}

    assert sorted((MATRIX.keys() | EXEMPT.keys()) - names) == []


def test_customer_data_is_refused_to_analysts_in_the_matrix_itself():
    # A matrix entry cannot wave an analyst through a route that shows customer data.
    lenient = [
        name
        for name, route in MATRIX.items()
        if route.customer_data and not route.analyst <= REFUSED
    ]
    assert lenient == []


def _secret(request):
    return HttpResponse("a page nobody listed")


# This module doubles as a URLconf: the site's routes plus one nobody put in the matrix.
urlpatterns = [*site_urlpatterns, path("audit/unlisted/", _secret, name="unlisted")]


def test_the_walk_catches_an_unlisted_route():
    # Compared with the site's own result, so a route landing elsewhere fails only above.
    caught = set(unlisted_routes(__name__)) - set(unlisted_routes())

    assert caught == {"unlisted (audit/unlisted/)"}


# --- each route, requested for real ---------------------------------------------------


@pytest.fixture
def world(users, customer, other_customer, tmp_path):
    """One of each record a route can name, reachable by the administrator."""
    order = builders.order(users, customer)
    builders.payment(users, customer)
    path = tmp_path / "f.csv"
    path.write_bytes(b"code,name\nX-1,A\n")
    job = ImportJob.objects.create(
        kind=ImportKind.CUSTOMERS,
        file_name="f.csv",
        file_path=str(path),
        created_by=users[Role.ANALYST],
    )
    return {
        "customer": customer,
        "other_customer": other_customer,
        "person": PersonFactory(customer=customer),
        "address": AddressFactory(customer=customer),
        "definition": FieldDefinitionFactory(),
        "product": builders.product_for("P-001"),
        "order": order,
        "job": job,
    }


def request(client, name: str, route: Route, world: dict, **headers):
    try:
        url = reverse(name, args=route.args(world))
    except NoReverseMatch as error:  # pragma: no cover - a matrix mistake, said plainly
        raise AssertionError(f"{name}: the matrix's URL arguments do not fit: {error}") from None
    send = getattr(client, route.method)
    if route.body is None:
        return send(url, **headers)
    return send(url, data=route.body(world), content_type="application/json", **headers)


@pytest.mark.parametrize("name", list(MATRIX))
def test_anonymous(client, world, name):
    route = MATRIX[name]

    response = request(client, name, route, world)

    assert response.status_code == route.anonymous
    if route.anonymous == LOGIN:
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("name", list(MATRIX))
def test_analyst(client, users, world, name):
    route = MATRIX[name]
    analyst = users[Role.ANALYST]
    changes = ObjectChange.objects.count()
    headers = {}
    if name.startswith(API):
        _token, raw = token_create(user=analyst, name="matrix")
        headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    else:
        client.force_login(analyst)

    response = request(client, name, route, world, **headers)

    assert response.status_code in route.analyst
    assert ObjectChange.objects.count() == changes
