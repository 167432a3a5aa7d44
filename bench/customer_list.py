"""The customer-list benchmark: the real list page against a bare Django view.

The bare view is the floor: the same restricted queryset from
``tokui.customers.selectors``, the same search, ordering, page of 50 and COUNT,
rendered by a minimal template string. The list page adds what a user sees
(django-tables2, filters, the layout, tags). Both are timed in the same run,
request after request, so the ratio says what the page costs over Django itself.
"""

import re
import statistics
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tokui.core.testing.clients import TwoFactorClient
from tokui.customers.selectors import customer_list, customer_search

TARGET_RATIO = 3.0
TARGET_MEDIAN_MS = 150.0
WARM_UP = 3
DEEP_PAGE = 200

# The list's ``sort`` values (tokui/customers/tables.py) the scenarios use, as orderings.
ORDERINGS = {
    "name": ("sort_key", "code"),
    "-name": ("-sort_key", "-code"),
    "code": ("code",),
    "-code": ("-code",),
}

BARE_TEMPLATE = Template(
    "<table>{% for c in page.object_list %}<tr><td>{{ c.code }}</td><td>{{ c.name }}</td>"
    "<td>{{ c.name_reading }}</td><td>{{ c.get_status_display }}</td><td>{{ c.owner }}</td>"
    "<td>{{ c.area }}</td><td>{{ c.phone }}</td></tr>{% endfor %}</table>"
    "<p>{{ page.number }} / {{ page.paginator.num_pages }} ({{ page.paginator.count }})</p>"
)


@login_required
def bare_customer_list(request):
    """The least Django needs to answer the list's question: same rows, same count."""
    rows = customer_search(customer_list(user=request.user), request.GET.get("q", ""))
    ordering = ORDERINGS.get(request.GET.get("sort", ""))
    if ordering:
        rows = rows.order_by(*ordering)
    page = Paginator(rows, settings.TOKUI_PAGE_SIZE).get_page(request.GET.get("page"))
    return HttpResponse(BARE_TEMPLATE.render(Context({"page": page})))


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    params: dict
    # Searches are typed into the search box, which asks for the results fragment only.
    htmx: bool = False


SCENARIOS = (
    Scenario("list", "list, page 1 (default sort)", {}),
    Scenario("deep", f"list by name, page {DEEP_PAGE}", {"sort": "name", "page": DEEP_PAGE}),
    Scenario("kanji", "search name, kanji 高橋", {"q": "高橋"}, htmx=True),
    Scenario("katakana", "search reading, katakana タカハシ", {"q": "タカハシ"}, htmx=True),
    Scenario("halfwidth", "search reading, half-width ﾀｶﾊｼ", {"q": "ﾀｶﾊｼ"}, htmx=True),
    Scenario("hangul", "search name, hangul 민준", {"q": "민준"}, htmx=True),
    Scenario("latin", "search name, latin smith", {"q": "smith"}, htmx=True),
    Scenario("phone", "search phone, partial 1234-5", {"q": "1234-5"}, htmx=True),
)

# Customer codes as bench/fill.py writes them (area code, hyphen, six digits).
CODE = re.compile(r"\b[A-Z]{3}-\d{6}\b")


@dataclass
class Result:
    database: str
    role: str
    scenario: str
    label: str
    url: str
    matches: int
    list_ms: list[float] = field(repr=False)
    bare_ms: list[float] = field(repr=False)
    list_queries: int = 0
    bare_queries: int = 0
    same_rows: bool = True

    @property
    def list_median(self) -> float:
        return statistics.median(self.list_ms)

    @property
    def bare_median(self) -> float:
        return statistics.median(self.bare_ms)

    @property
    def list_p95(self) -> float:
        return percentile(self.list_ms, 95)

    @property
    def ratio(self) -> float:
        return self.list_median / self.bare_median

    @property
    def missed(self) -> list[str]:
        reasons = []
        if self.ratio > TARGET_RATIO:
            reasons.append(f"ratio {self.ratio:.1f}x > {TARGET_RATIO:g}x")
        if self.list_median >= TARGET_MEDIAN_MS:
            reasons.append(f"median {self.list_median:.0f} ms >= {TARGET_MEDIAN_MS:g} ms")
        if not self.same_rows:
            reasons.append("list and bare view returned different rows")
        return reasons

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(
            list_median=self.list_median,
            bare_median=self.bare_median,
            list_p95=self.list_p95,
            bare_p95=percentile(self.bare_ms, 95),
            ratio=self.ratio,
            missed=self.missed,
        )
        return data


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class BenchError(RuntimeError):
    """The benchmark could not measure what it claims to measure."""


def _timed_get(client: Client, url: str, headers: dict) -> tuple[float, object]:
    start = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}")
    return elapsed, response


def _codes(response) -> list[str]:
    return list(dict.fromkeys(CODE.findall(response.content.decode())))


def measure(database: str, users: dict, repeat: int) -> list[Result]:
    """Time every scenario for every user; list and bare requests alternate."""
    list_url = reverse("customers:list")
    bare_url = reverse("bench_bare_customers")
    results = []
    for role, user in users.items():
        # Administrators must pass a second factor; sign in the whole way, as tests do.
        client = TwoFactorClient()
        client.force_login(user)
        visible = customer_list(user=user).count()
        last_page = max(1, -(-visible // settings.TOKUI_PAGE_SIZE))
        for scenario in SCENARIOS:
            params = dict(scenario.params)
            if "page" in params:
                params["page"] = min(params["page"], last_page)
            query = f"?{urlencode(params)}" if params else ""
            headers = {"HX-Request": "true"} if scenario.htmx else {}
            for _ in range(WARM_UP):
                _timed_get(client, list_url + query, headers)
                _timed_get(client, bare_url + query, headers)
            # Counted at once: the log is cleared when the next request starts.
            with CaptureQueriesContext(connection) as captured:
                _, list_response = _timed_get(client, list_url + query, headers)
            list_queries = len(captured)
            with CaptureQueriesContext(connection) as captured:
                _, bare_response = _timed_get(client, bare_url + query, headers)
            bare_queries = len(captured)
            bare_codes = _codes(bare_response)
            matches = customer_search(customer_list(user=user), params.get("q", "")).count()
            if matches and not bare_codes:
                raise BenchError(f"{bare_url + query} showed no customer codes")
            list_ms, bare_ms = [], []
            for number in range(repeat):
                # Alternate who goes first so neither always meets a warmer cache.
                pair = [(list_url, list_ms), (bare_url, bare_ms)]
                for url, times in pair if number % 2 == 0 else reversed(pair):
                    times.append(_timed_get(client, url + query, headers)[0])
            results.append(
                Result(
                    database=database,
                    role=role,
                    scenario=scenario.key,
                    label=scenario.label,
                    url=list_url + query,
                    matches=matches,
                    list_ms=list_ms,
                    bare_ms=bare_ms,
                    list_queries=list_queries,
                    bare_queries=bare_queries,
                    same_rows=_codes(list_response) == bare_codes,
                )
            )
            print(format_row(results[-1].as_dict()), flush=True)
    return results


def format_row(result: dict) -> str:
    verdict = "ok" if not result["missed"] else "MISSED: " + "; ".join(result["missed"])
    return (
        f"{result['database']:<10} {result['role']:<15} {result['label']:<34} "
        f"{result['matches']:>7,} {result['list_median']:7.1f} {result['list_p95']:7.1f} "
        f"{result['bare_median']:7.1f} {result['ratio']:5.1f}x "
        f"{result['list_queries']:3d}/{result['bare_queries']:<3d}  {verdict}"
    )


HEADER = (
    f"{'database':<10} {'user':<15} {'scenario':<34} {'matches':>7} {'median':>7} {'p95':>7} "
    f"{'bare':>7} {'ratio':>6} queries  target"
)
