"""Security headers: CSP, nosniff, Referrer-Policy, HSTS and secure cookies, no-store on data."""

import importlib
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings as settings_module
from django.test import Client

from tokui.core.testing.browser import chromium
from tokui.core.testing.factories import TEST_PASSWORD
from tokui.users.choices import Role

CARD_URL = "/customers/TKY-0001/"
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
PROD_SECURITY_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "X_FRAME_OPTIONS",
)


def policy_of(response) -> dict[str, str]:
    directives = (d.strip() for d in response["Content-Security-Policy"].split(";"))
    return dict(d.split(" ", 1) for d in directives if d)


@pytest.fixture
def prod_settings(settings, monkeypatch):
    """The security settings of config.settings.prod, on top of the test settings."""
    monkeypatch.setattr("config.settings.base.SECRET_KEY", "k" * 64)
    sys.modules.pop("config.settings.prod", None)
    prod = importlib.import_module("config.settings.prod")
    sys.modules.pop("config.settings.prod", None)
    for name in PROD_SECURITY_SETTINGS:
        setattr(settings, name, getattr(prod, name))
    return settings


@pytest.mark.parametrize("url", ["/login/", "/api/v1/docs", "/api/v1/openapi.json"])
def test_every_answer_carries_the_content_security_policy(db, url):
    response = Client().get(url)

    assert response.status_code == 200
    assert policy_of(response) == POLICY
    assert "unsafe" not in response["Content-Security-Policy"]


def test_a_signed_in_page_carries_the_policy_nosniff_and_referrer_policy(client, users, customer):
    client.force_login(users[Role.ACCOUNT_MANAGER])

    response = client.get(CARD_URL)

    assert response.status_code == 200
    assert policy_of(response)["object-src"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def script_tags(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html)


@pytest.mark.parametrize(
    "url", [CARD_URL, "/customers/", f"{CARD_URL}edit/", "/account/two-factor/", "/api/v1/docs"]
)
def test_pages_have_no_inline_scripts_styles_or_handlers(client, users, customer, url):
    client.force_login(users[Role.MANAGER])

    html = client.get(url).content.decode()

    tags = script_tags(html)
    assert tags
    # Every script is a file, or data that is never run (the Swagger settings).
    assert all("src=" in tag or 'type="application/json"' in tag for tag in tags), tags
    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)


def test_htmx_is_told_not_to_inject_its_indicator_style(client, users):
    client.force_login(users[Role.ACCOUNT_MANAGER])

    html = client.get("/customers/").content.decode()

    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles":false}\'>' in html


def test_card_pages_and_api_answers_are_never_stored(client, users, customer):
    client.force_login(users[Role.ACCOUNT_MANAGER])

    for url in (CARD_URL, f"{CARD_URL}history/", "/customers/", "/api/v1/customers/TKY-0001"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_api_errors_are_never_stored_either(db):
    response = Client().get("/api/v1/customers")

    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_production_sends_hsts_with_subdomains_and_preload(prod_settings, db):
    response = Client().get("/login/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_production_redirects_plain_http_to_https(prod_settings, db):
    response = Client().get("/login/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"


def test_production_cookies_are_secure_and_http_only(prod_settings, users):
    client = Client()
    client.get("/login/", secure=True)
    response = client.post("/login/", {"username": "am", "password": TEST_PASSWORD}, secure=True)

    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["secure"] is True


def template_files():
    root = Path(settings_module.BASE_DIR) / "tokui"
    return sorted(p for p in root.rglob("templates/**/*.html"))


def test_no_template_holds_an_inline_script_style_or_event_handler():
    """The CSP refuses them in the browser; this names the template before anyone notices."""
    offences = []
    for path in template_files():
        html = path.read_text()
        for tag in script_tags(html):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offences.append(f"{path}: {tag}")
        if "<style" in html or re.search(r"\sstyle=", html):
            offences.append(f"{path}: style")
        if re.search(r"\son[a-z]+=", html):
            offences.append(f"{path}: event handler attribute")

    assert template_files()
    assert offences == []


@pytest.fixture
def chromium_page(live_server):
    with chromium(live_server.url) as new_page:
        page = new_page()
        page.violations = []
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and page.violations.append(message.text)
            ),
        )
        yield page


@pytest.mark.browser
def test_the_api_docs_and_the_customer_list_work_under_the_policy(
    chromium_page, transactional_db, areas
):
    from playwright.sync_api import expect

    from tokui.core.testing.factories import CustomerFactory, UserFactory

    am = UserFactory(username="suzuki", role=Role.ACCOUNT_MANAGER, area=areas["TKY"])
    CustomerFactory(code="TKY-0100", name="山田商店", owner=am, area=areas["TKY"])
    page = chromium_page

    page.goto("/api/v1/docs")
    expect(page.get_by_role("heading", name=re.compile("Tokui API"))).to_be_visible()
    expect(page.get_by_text("/api/v1/customers/{code}").first).to_be_visible()

    page.goto("/login/")
    page.get_by_label("Username").fill("suzuki")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("#id_q").fill("山田")
    expect(page.locator("#results").get_by_text("山田商店")).to_be_visible()

    assert page.violations == []
