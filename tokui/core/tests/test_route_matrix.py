"""Deny by default: every route of the site is in this matrix, or the suite fails.

``test_every_route_is_in_the_matrix`` walks Django's URL resolver (the pages and every
operation of the ninja API, which registers one named pattern per operation) and fails
when a route is neither in ``MATRIX`` nor in ``EXEMPT``. So a new page or endpoint cannot
land without someone writing down here who may reach it.

Each entry declares the permission its route checks (``need=``): a ``Need`` names the
resource and action of ``tokui/users/roles.py`` and whether the URL names a record of one
customer; a ``Rule`` writes out a route's special outcome per role. The expected answer
for every role is *derived* from the ``PERMISSIONS`` table, so the matrix stays true when
the table changes, and ``test_every_entry_declares_its_permission`` refuses an entry that
declares nothing. ``test_route`` then requests each route for real:

- anonymous: pages send the visitor to the log-in page (302), the API answers 401;
- every role (administrator, manager, account manager, service agent, analyst, auditor),
  against a card in its scope and, where the route names a customer's record, one outside
  it: allowed is 200/201/202/204 or a redirect elsewhere than the log-in or two-factor
  pages; refused is 403, or 404 where the route hides that the record exists;
- a refused request writes nothing: no change-log or access-log row, and the records the
  route names are as they were;
- an allowed list, search or export shows no card outside the caller's scope.

Every request runs in a savepoint that is rolled back, so one world serves all of them.

``test_the_walk_catches_an_unlisted_route`` proves the check bites: it serves this
module's own URLconf (the site's plus one extra page) and expects exactly that page to
be reported as unlisted.
"""

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.urls.exceptions import NoReverseMatch

from config.urls import urlpatterns as site_urlpatterns
from tokui.approvals.models import ChangeRequest
from tokui.audit.models import AccessEvent, ObjectChange
from tokui.core.testing.clients import TwoFactorClient, bearer
from tokui.core.testing.factories import (
    AddressFactory,
    ChangeRequestFactory,
    CustomerFactory,
    FieldDefinitionFactory,
    PersonFactory,
)
from tokui.customers.models import Address, Customer, Person
from tokui.customers.services import customer_delete
from tokui.fields.models import FieldDefinition
from tokui.sales.choices import ImportKind
from tokui.sales.models import ImportJob, Order, Product
from tokui.sales.tests import builders
from tokui.users.choices import Role, Scope
from tokui.users.roles import (
    ACCESS_LOG,
    CARD_HISTORY,
    CHANGE_REQUEST,
    CUSTOMER,
    FIELD_DEFINITION,
    PERMISSIONS,
    PRODUCT,
    TRASH,
)

pytestmark = pytest.mark.django_db

LOGIN = 302  # a page sends an anonymous visitor to the log-in page
UNAUTHORISED = 401  # the API answers an anonymous caller with 401
FORBIDDEN = {403}
NOT_FOUND = {404}
REFUSED = {403, 404}
API = "api:"

ALLOWED = "allowed"  # 200/201/202/204, or a redirect that is not to log-in or two-factor
IN, OUT = "in scope", "out of scope"
ROLES = tuple(Role)


def _covers(scope: str | None, target: str) -> bool:
    """Whether ``scope`` reaches the target card of the world below.

    The in-scope card is owned by the account manager and sits in Tokyo, the manager's
    area; the other card belongs to someone else in Osaka. So OWN and AREA reach the
    first only, ALL reaches both.
    """
    return scope == Scope.ALL or (scope is not None and target == IN)


@dataclasses.dataclass(frozen=True)
class Need:
    """The permission a route checks, as ``tokui/users/roles.py`` names it.

    ``resource``/``action``: the ``PERMISSIONS`` entry the role must hold, else 403.
    ``scoped``: the URL names a record of one customer (card, person, order…); the route
    is then also requested for a card outside the role's scope, which it must hide (404).
    ``also``: further actions on the resource the role must hold (card imports: add and
    change). ``scopes``: the only scopes of (resource, action) that suffice (the global
    change log needs ALL). ``roles``: a rule of the route itself, beyond the table (the
    privacy export). ``first``/``find``: the action checked before the record is looked
    up, and the one whose scope it is looked up in (default: ``action`` for both); the
    API checks "view" for both, then answers 403 for a visible record the caller may not
    ``action`` on.
    """

    resource: str
    action: str
    scoped: bool = False
    also: tuple[str, ...] = ()
    scopes: frozenset | None = None
    roles: frozenset | None = None
    first: str | None = None
    find: str | None = None

    def expect(self, role: str, target: str):
        held = PERMISSIONS.get(role, {}).get(self.resource, {})
        if (
            (self.roles is not None and role not in self.roles)
            or held.get(self.first or self.action) is None
            or any(held.get(action) is None for action in self.also)
            or (self.scopes is not None and held.get(self.action) not in self.scopes)
        ):
            return 403
        if self.scoped and not _covers(held.get(self.find or self.action), target):
            return 404
        if held.get(self.action) is None or (
            self.scoped and not _covers(held.get(self.action), target)
        ):
            return 403
        return ALLOWED


@dataclasses.dataclass(frozen=True)
class Rule:
    """A route whose outcome the table alone does not give: ``outcome(role, target)``."""

    why: str
    outcome: Callable[[str, str], object]
    scoped: bool = False

    def expect(self, role: str, target: str):
        return self.outcome(role, target)


SIGNED_IN = Rule("every signed-in user", lambda role, target: ALLOWED)


@dataclasses.dataclass(frozen=True)
class Route:
    """What to send to a route and what must come back.

    ``args`` builds the URL arguments from the test's objects (``world``: "customer" is
    the card under test, in or out of scope, and "person", "address", "order" hang off
    it); ``need`` is the permission the route checks (see ``Need``); ``lists`` says an
    allowed answer lists cards, so it must name none outside the caller's scope;
    ``customer_data`` says the route shows or changes customer data, which the table
    must never open to analysts. ``analyst``, optional, is a hand-written expectation
    for analysts (the matrix's first form): it must agree with what ``need`` derives.
    """

    method: str
    anonymous: int
    analyst: set[int] | None
    customer_data: bool
    args: Callable[[dict], list] = lambda world: []
    body: Callable[[dict], dict] | None = None
    need: Need | Rule | None = None
    lists: bool = False


def page(
    method="get",
    *,
    analyst=None,
    customer_data=True,
    args=lambda world: [],
    need=None,
    lists=False,
):
    return Route(method, LOGIN, analyst, customer_data, args, None, need, lists)


def endpoint(
    method="get",
    *,
    analyst=None,
    args=lambda world: [],
    body=None,
    need=None,
    lists=False,
    customer_data=True,
):
    # The API looks a record up among those the caller may view (404 beyond them) and
    # only then checks the action (403): see tokui/customers/api.py.
    if isinstance(need, Need) and need.scoped:
        need = dataclasses.replace(need, first=need.first or "view", find=need.find or "view")
    return Route(method, UNAUTHORISED, analyst, customer_data, args, body, need, lists)


def code(world):
    return [world["customer"].code]


def person(world):
    return [world["customer"].code, world["person"].pk]


def address(world):
    return [world["customer"].code, world["address"].pk]


def card(action, **kwargs):
    """A page about one card (or a row on it), looked up in the scope of ``action``."""
    return Need(CUSTOMER, action, scoped=True, **kwargs)


# Roles that may take a person's data out of the system on request (customers/selectors.py).
PRIVACY_EXPORTERS = frozenset(
    {Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER, Role.AUDITOR}
)
CARD_IMPORT = Need(CUSTOMER, "add", also=("change",))


def _import_job(role, target):
    # A job is its starter's (administrators see all): another's is hidden (404) before
    # the import permission is checked (403).
    if target == OUT and role != Role.ADMINISTRATOR:
        return 404
    return CARD_IMPORT.expect(role, IN)


IMPORT_JOB = Rule(
    "an import job is its starter's; administrators see every job", _import_job, scoped=True
)


# Restoring names a card in the trash (the world has one on each side of the scope).
TRASH_RESTORE = Need(TRASH, "change", scoped=True)


def trashed(world):
    return [world["trashed"].code]


def change_request(world):
    """A pending change request (GOV-2) on the target card, made by the card's owner."""
    return [world["change_request"].pk]


def _withdraw(role, target):
    # Only the requester withdraws; the world's requests are the card owner's.
    held = PERMISSIONS[role].get(CHANGE_REQUEST, {})
    if held.get("view") is None:
        return 403
    if not _covers(held["view"], target):
        return 404
    return ALLOWED if role == Role.ACCOUNT_MANAGER and target == IN else 403


WITHDRAW = Rule("only the requester withdraws a change request", _withdraw, scoped=True)


# Every route by its namespaced URL name. Kept in the order of the URLconfs.
MATRIX: dict[str, Route] = {
    "home": page(customer_data=False, need=SIGNED_IN),
    # the card
    "customers:list": page(need=Need(CUSTOMER, "view"), lists=True),
    "customers:create": page(need=Need(CUSTOMER, "add")),
    "customers:duplicates": page(need=Need(CUSTOMER, "change"), lists=True),
    # handing cards over between owners is for those who reach more than their own cards
    "customers:handover": page(
        need=Need(CUSTOMER, "change", scopes=frozenset({Scope.ALL, Scope.AREA}))
    ),
    "customers:merge": page(
        args=lambda world: [world["second"].code, world["customer"].code], need=card("delete")
    ),
    "customers:detail": page(args=code, need=card("view")),
    "customers:edit": page(args=code, need=card("change")),
    "customers:history": page(args=code, need=Need(CARD_HISTORY, "view", scoped=True)),
    "customers:privacy_export": page(args=code, need=card("view", roles=PRIVACY_EXPORTERS)),
    "customers:privacy_export_json": page(args=code, need=card("view", roles=PRIVACY_EXPORTERS)),
    "customers:person_anonymise": page("post", args=person, need=card("delete")),
    "customers:delete": page("post", args=code, need=card("delete")),
    "customers:consent": page("post", args=code, need=card("change")),
    "customers:person_create": page(args=code, need=card("change")),
    "customers:person_edit": page(args=person, need=card("change")),
    "customers:person_delete": page("post", args=person, need=card("change")),
    "customers:address_create": page(args=code, need=card("change")),
    "customers:address_edit": page(args=address, need=card("change")),
    "customers:address_delete": page("post", args=address, need=card("change")),
    # the trash (docs/trash.md): administrators and auditors see it, administrators restore
    # and purge; restoring names a card in the trash (the world has one each side of scope)
    "customers:trash": page(need=Need(TRASH, "view")),
    "customers:trash_purge": page("post", need=Need(TRASH, "delete")),
    "customers:trash_restore": page("post", args=trashed, need=TRASH_RESTORE),
    # card field definitions: configuration, not customer data
    "fields:list": page(customer_data=False, need=Need(FIELD_DEFINITION, "view")),
    "fields:create": page(customer_data=False, need=Need(FIELD_DEFINITION, "add")),
    "fields:presets": page(customer_data=False, need=Need(FIELD_DEFINITION, "view")),
    # field visibility per role: the "who sees what" grid
    "fields:rules": page(customer_data=False, need=Need(FIELD_DEFINITION, "view")),
    "fields:edit": page(
        customer_data=False,
        args=lambda world: [world["definition"].key],
        need=Need(FIELD_DEFINITION, "change"),
    ),
    "fields:retire": page(
        "post",
        customer_data=False,
        args=lambda world: [world["definition"].key],
        need=Need(FIELD_DEFINITION, "delete"),
    ),
    # sales: products are master data; orders and payments belong to customers
    "sales:product_list": page(customer_data=False, need=Need(PRODUCT, "view")),
    "sales:product_create": page(customer_data=False, need=Need(PRODUCT, "add")),
    "sales:product_detail": page(
        customer_data=False,
        args=lambda world: [world["product"].code],
        need=Need(PRODUCT, "view"),
    ),
    "sales:product_edit": page(
        customer_data=False,
        args=lambda world: [world["product"].code],
        need=Need(PRODUCT, "change"),
    ),
    "sales:order_list": page(need=Need(CUSTOMER, "view"), lists=True),
    "sales:order_create": page(need=Need(CUSTOMER, "change")),
    "sales:order_detail": page(args=lambda world: [world["order"].number], need=card("view")),
    # the order is looked up among those the caller may see, then the change is checked
    "sales:order_cancel": page(
        "post", args=lambda world: [world["order"].number], need=card("change", find="view")
    ),
    "sales:payment_list": page(need=Need(CUSTOMER, "view"), lists=True),
    "sales:payment_create": page(need=Need(CUSTOMER, "change")),
    "sales:export": page(args=lambda world: ["orders"], need=Need(CUSTOMER, "view"), lists=True),
    # imports of cards and sales: a job is its starter's
    "imports:start": page(need=CARD_IMPORT),
    "imports:detail": page(args=lambda world: [world["job"].pk], need=IMPORT_JOB),
    "imports:map": page(args=lambda world: [world["job"].pk], need=IMPORT_JOB),
    "imports:cancel": page("post", args=lambda world: [world["job"].pk], need=IMPORT_JOB),
    "imports:rejections_csv": page(args=lambda world: [world["job"].pk], need=IMPORT_JOB),
    # the audit trail: who read and who changed which cards
    "audit:access_log": page(need=Need(ACCESS_LOG, "view")),
    # the global change log is for those who see every card's history
    "audit:change_log": page(need=Need(CARD_HISTORY, "view", scopes=frozenset({Scope.ALL}))),
    # approvals of controlled fields (GOV-2): the queue, a request, the requester's inbox
    # (the world's requests are the card owners': the inbox of most roles is empty)
    "approvals:queue": page(need=Need(CHANGE_REQUEST, "view"), lists=True),
    "approvals:mine": page(need=Need(CHANGE_REQUEST, "add")),
    "approvals:detail": page(args=change_request, need=Need(CHANGE_REQUEST, "view", scoped=True)),
    "approvals:withdraw": page("post", args=change_request, need=WITHDRAW),
    # the API: scoped reads hide the record (404); a role without the permission gets 403
    f"{API}customer_list": endpoint(need=Need(CUSTOMER, "view"), lists=True),
    f"{API}customer_create": endpoint(
        "post",
        body=lambda world: {"code": "MATRIX-1", "kind": "company", "name": "Matrix"},
        need=Need(CUSTOMER, "add"),
    ),
    f"{API}customer_detail": endpoint(args=code, need=card("view")),
    f"{API}customer_update": endpoint(
        "patch",
        args=code,
        body=lambda world: {"version": world["customer"].version, "name": "X"},
        need=card("change"),
    ),
    f"{API}customer_delete": endpoint("delete", args=code, need=card("delete")),
    f"{API}person_list": endpoint(args=code, need=card("view")),
    f"{API}person_create": endpoint(
        "post",
        args=code,
        body=lambda world: {"relation": "contact", "name": "X"},
        need=card("change"),
    ),
    f"{API}person_detail": endpoint(args=lambda world: [world["person"].pk], need=card("view")),
    f"{API}person_update": endpoint(
        "patch",
        args=lambda world: [world["person"].pk],
        body=lambda world: {"version": world["person"].version, "name": "X"},
        need=card("change"),
    ),
    f"{API}person_delete": endpoint(
        "delete", args=lambda world: [world["person"].pk], need=card("change")
    ),
    f"{API}product_list": endpoint(customer_data=False, need=Need(PRODUCT, "view")),
    f"{API}product_detail": endpoint(
        customer_data=False,
        args=lambda world: [world["product"].code],
        need=Need(PRODUCT, "view"),
    ),
    f"{API}order_list": endpoint(need=Need(CUSTOMER, "view"), lists=True),
    f"{API}order_detail": endpoint(args=lambda world: [world["order"].number], need=card("view")),
    f"{API}payment_list": endpoint(need=Need(CUSTOMER, "view"), lists=True),
    # the trash over the API, as on the pages
    f"{API}trash_list": endpoint(need=Need(TRASH, "view")),
    f"{API}trash_restore": endpoint("post", args=trashed, need=TRASH_RESTORE),
    f"{API}trash_purge": endpoint("post", need=Need(TRASH, "delete")),
    # approvals of controlled fields over the API (GOV-2), as on the pages
    f"{API}change_request_list": endpoint(need=Need(CHANGE_REQUEST, "view"), lists=True),
    f"{API}change_request_detail": endpoint(
        args=change_request, need=Need(CHANGE_REQUEST, "view", scoped=True)
    ),
    f"{API}change_request_approve": endpoint(
        "post",
        args=change_request,
        body=lambda world: {"comment": "OK"},
        need=Need(CHANGE_REQUEST, "change", scoped=True),
    ),
    f"{API}change_request_reject": endpoint(
        "post",
        args=change_request,
        body=lambda world: {"comment": "No"},
        need=Need(CHANGE_REQUEST, "change", scoped=True),
    ),
    f"{API}change_request_withdraw": endpoint("post", args=change_request, need=WITHDRAW),
    # field visibility per role: the "who sees what" grid (a body that keeps the default)
    f"{API}field_rules_get": endpoint(customer_data=False, need=Need(FIELD_DEFINITION, "view")),
    f"{API}field_rules_set": endpoint(
        "put",
        customer_data=False,
        need=Need(FIELD_DEFINITION, "change"),
        body=lambda world: {
            "rules": [
                {"category": "network", "role": "manager", "can_view": True, "can_edit": True}
            ]
        },
    ),
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
    """Every record a route can name, for a card in scope and one outside it.

    ``customer`` (TKY-0001) and ``second`` (TKY-0002) are the Tokyo account manager's;
    ``other_customer`` (OSK-0001) and OSK-0002 are Osaka's. Each card in the matrix has a
    person, an address, an order, a payment and a pending change request, and a card of
    the same owner and area sits in the trash (TKY-0009, OSK-0009); each user has an
    import job of their own.
    """
    # Each pair shares a phone, so the duplicates page has one pair in scope and one out.
    second = CustomerFactory(
        code="TKY-0002",
        name="東京商会",
        owner=users[Role.ACCOUNT_MANAGER],
        area=customer.area,
        phone=customer.phone,
    )
    CustomerFactory(
        code="OSK-0002",
        name="浪速商会",
        owner=other_customer.owner,
        area=other_customer.area,
        phone=other_customer.phone,
    )
    upload = tmp_path / "f.csv"
    upload.write_bytes(b"code,name\nX-1,A\n")
    stranger = other_customer.owner
    jobs = {
        user.pk: ImportJob.objects.create(
            kind=ImportKind.CUSTOMERS, file_name="f.csv", file_path=str(upload), created_by=user
        )
        for user in [*users.values(), stranger]
    }
    definition = FieldDefinitionFactory()
    cards = {}
    for number, card_ in enumerate((customer, other_customer), start=1):
        # A card of the same owner and area, in the trash.
        binned = CustomerFactory(code=f"{card_.code[:3]}-0009", owner=card_.owner, area=card_.area)
        customer_delete(actor=users[Role.ADMINISTRATOR], customer=binned)
        cards[card_.pk] = {
            "person": PersonFactory(customer=card_),
            "address": AddressFactory(customer=card_),
            "order": builders.order(users, card_, number=f"SO-{number}"),
            "trashed": binned,
            "change_request": ChangeRequestFactory(
                customer=card_, proposed={"field_values": {definition.key: "X"}}
            ),
        }
        builders.payment(users, card_, reference=f"PAY-{number}")
    return {
        "users": users,
        "in": customer,
        "out": other_customer,
        "second": second,
        "stranger": stranger,
        "cards": cards,
        "jobs": jobs,
        "definition": definition,
        "product": builders.product_for("P-001"),
    }


def world_for(world: dict, user, target: str) -> dict:
    """The names the matrix's ``args`` use, for one caller and one target card."""
    card_ = world["in"] if target == IN else world["out"]
    job_owner = user if target == IN and user is not None else world["stranger"]
    return {
        **world["cards"][card_.pk],
        "customer": card_,
        "other_customer": world["out"],
        "second": world["second"],
        "definition": world["definition"],
        "product": world["product"],
        "job": world["jobs"][job_owner.pk],
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


def outcome(response):
    """What a response amounts to: ALLOWED, or its refusing (or unexpected) status."""
    status = response.status_code
    if status in (200, 201, 202, 204):
        return ALLOWED
    if 300 <= status < 400:
        location = response["Location"]
        held_back = ("/login/", reverse("users:otp_setup"), reverse("users:otp_verify"))
        return status if location.startswith(held_back) else ALLOWED
    return status


def written(world: dict) -> tuple:
    """Everything a refused request could have touched, to compare before and after."""
    card_ = world["customer"]
    return (
        ObjectChange.objects.count(),
        AccessEvent.objects.count(),
        Customer.objects.count(),
        list(Customer.objects.filter(pk__in=[card_.pk, world["trashed"].pk]).values()),
        list(Person.objects.filter(customer=card_).order_by("pk").values()),
        list(Address.objects.filter(customer=card_).order_by("pk").values()),
        list(Order.objects.filter(customer=card_).order_by("pk").values()),
        list(ChangeRequest.objects.filter(customer=card_).order_by("pk").values()),
        list(FieldDefinition.objects.order_by("pk").values()),
        list(Product.objects.order_by("pk").values()),
        list(ImportJob.objects.order_by("pk").values()),
    )


def body_text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def leaks(role: str, text: str, world: dict) -> str:
    """What a list shows wrongly: the in-scope card missing, or the other card present."""
    mine = (world["in"].code, "SO-1", "PAY-1")
    theirs = (world["out"].code, world["out"].name, "SO-2", "PAY-2")
    if not any(marker in text for marker in mine):
        # Without this an empty page would pass the check below.
        return "the card in scope is not listed"
    if PERMISSIONS[role].get(CUSTOMER, {}).get("view") == Scope.ALL:
        return ""
    return ", ".join(marker for marker in theirs if marker in text)


def expected(route: Route, role: str, target: str):
    return route.need.expect(role, target)


def targets(route: Route) -> tuple[str, ...]:
    return (IN, OUT) if route.need.scoped else (IN,)


def test_every_entry_declares_its_permission():
    # Without a declaration a route would be waved through untested: name the
    # resource and action it checks (need=Need(...)/card(...)) or write a Rule.
    undeclared = [name for name, route in MATRIX.items() if route.need is None]
    assert undeclared == [], (
        "declare need=Need(resource, action, scoped=...) or need=Rule(...) for these"
    )


def test_customer_data_is_refused_to_analysts_in_the_matrix_itself():
    # The table cannot open a route that shows customer data to analysts unnoticed.
    lenient = [
        name
        for name, route in MATRIX.items()
        if route.need is not None
        and route.customer_data
        and any(route.need.expect(Role.ANALYST, t) == ALLOWED for t in targets(route))
    ]
    assert lenient == []


def test_hand_written_analyst_outcomes_agree_with_the_table():
    disagree = [
        name
        for name, route in MATRIX.items()
        if route.need is not None
        and route.analyst is not None
        and any(
            route.need.expect(Role.ANALYST, t)
            not in {ALLOWED if status < 400 else status for status in route.analyst}
            for t in targets(route)
        )
    ]
    assert disagree == []


def test_the_table_is_what_the_matrix_derives_from():
    # A guard on the oracle itself: each role reaches what the issue says, no more.
    card_view = Need(CUSTOMER, "view", scoped=True)
    reach = {role: [card_view.expect(role, t) for t in (IN, OUT)] for role in ROLES}
    assert reach == {
        Role.ADMINISTRATOR: [ALLOWED, ALLOWED],
        Role.MANAGER: [ALLOWED, 404],
        Role.ACCOUNT_MANAGER: [ALLOWED, 404],
        Role.SERVICE_AGENT: [ALLOWED, ALLOWED],
        Role.ANALYST: [403, 403],
        Role.AUDITOR: [ALLOWED, ALLOWED],
    }
    api_delete = MATRIX[f"{API}customer_delete"].need
    assert [api_delete.expect(Role.ACCOUNT_MANAGER, t) for t in (IN, OUT)] == [403, 404]


def caller_for(name: str, user, client) -> tuple:
    """The client and headers ``user`` calls ``name`` with: an API token or a browser."""
    if name.startswith(API):
        return client, {"HTTP_AUTHORIZATION": bearer(user)}
    browser = TwoFactorClient()
    browser.sign_in(user)
    return browser, {}


def test_routes_that_name_a_customers_record_are_declared_scoped(users, world):
    # An entry whose URL follows the target card but is not declared scoped would be
    # requested for the card in scope only: its refusal out of scope never checked.
    admin = users[Role.ADMINISTRATOR]
    undeclared = [
        name
        for name, route in MATRIX.items()
        if route.need is not None
        and not route.need.scoped
        and route.args(world_for(world, admin, IN)) != route.args(world_for(world, admin, OUT))
    ]
    assert undeclared == []


@pytest.mark.parametrize("name", list(MATRIX))
def test_route(client, users, world, name):
    route = MATRIX[name]
    assert route.need is not None, f"{name} declares no permission"
    wrong = []
    # Every request is rolled back, so the state before each is the same: read it once.
    before = {target: written(world_for(world, None, target)) for target in targets(route)}

    def attempt(caller, role, target, headers):
        view = world_for(world, users.get(role), target)
        with transaction.atomic():
            response = request(caller, name, route, view, **headers)
            got = outcome(response)
            # A refused request writes nothing; an allowed read records no change either
            # (what an allowed POST, PATCH or DELETE writes is its own tests' business).
            if got != ALLOWED:
                wrote = written(view) != before[target]
            else:
                wrote = route.method == "get" and ObjectChange.objects.count() != before[target][0]
            leaked = ""
            if got == ALLOWED and route.lists and role is not None:
                leaked = leaks(role, body_text(response), world)
            transaction.set_rollback(True)
        return got, wrote, leaked

    got, wrote, _ = attempt(client, None, IN, {})
    if got != route.anonymous:
        wrong.append(("anonymous", IN, route.anonymous, got))
    if wrote:
        wrong.append(("anonymous", IN, "nothing written", "a write"))

    for role in ROLES:
        caller, headers = caller_for(name, users[role], client)
        for target in targets(route):
            want = expected(route, role, target)
            got, wrote, leaked = attempt(caller, role, target, headers)
            if got != want:
                wrong.append((role, target, want, got))
            if wrote:
                wrong.append((role, target, "nothing written", "a write"))
            if leaked:
                wrong.append((role, target, "no card outside the scope", leaked))
    assert not wrong, "\n".join(
        f"{name}: {role} ({target}): expected {want}, got {got}"
        for role, target, want, got in wrong
    )
