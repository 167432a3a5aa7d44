"""Japanese and Korean UI: complete catalogues, Accept-Language, the switcher, localised dates.

The catalogues are read as files here (not through Django) so that a string another
change added without a translation fails with its msgid named.
"""

import ast
import datetime
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import dateformat, timezone

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import PersonFactory
from tokui.customers import services
from tokui.users.choices import Role

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
LANGUAGES = ["ja", "ko"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr (list of forms) and flags."""
    entries, entry, field = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        starts_entry = line.startswith(("#", "msgid ", "msgctxt ")) or not line
        if entry and entry["msgstr"] and starts_entry:
            entries.append(entry)
            entry = None
        if not line or line.startswith("#~"):
            continue
        if entry is None:
            entry = {"flags": set(), "msgid": "", "msgid_plural": None, "msgstr": []}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if field == "msgstr":
                entry["msgstr"][-1] += value
            else:
                entry[field] += value
        else:
            keyword, value = line.split(" ", 1)
            value = ast.literal_eval(value)
            if keyword.startswith("msgstr"):
                field = "msgstr"
                entry["msgstr"].append(value)
            else:
                field = keyword
                entry[keyword] = value
    return entries


def po_path(language):
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    entries = read_po(po_path(language))
    header, messages = entries[0], entries[1:]

    assert header["msgid"] == ""
    assert f"Language: {language}\n" in header["msgstr"][0]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header["msgstr"][0]
    assert "charset=UTF-8" in header["msgstr"][0]
    assert len(messages) > 300
    untranslated = [m["msgid"] for m in messages if not all(m["msgstr"]) or not m["msgstr"]]
    fuzzy = [m["msgid"] for m in entries if "fuzzy" in m["flags"]]
    assert untranslated == [], f"{language}: untranslated msgids: {untranslated}"
    assert fuzzy == [], f"{language}: fuzzy entries: {fuzzy}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    wrong = []
    for message in read_po(po_path(language))[1:]:
        wanted = set(PLACEHOLDER.findall(message["msgid"]))
        for form in message["msgstr"]:
            if set(PLACEHOLDER.findall(form)) != wanted:
                wrong.append((message["msgid"], form))
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_the_po_file(language):
    """The committed .mo is what Django serves; a stale one hides new translations."""
    with (po_path(language).with_suffix(".mo")).open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    stale = []
    for message in read_po(po_path(language))[1:]:
        if message["msgid_plural"] is None:
            served = catalogue.gettext(message["msgid"])
        else:
            served = catalogue.ngettext(message["msgid"], message["msgid_plural"], 1)
        if served != message["msgstr"][0]:
            stale.append(message["msgid"])
    assert stale == [], f"{language}: run compilemessages; stale: {stale}"


@pytest.mark.parametrize(
    ("accept_language", "lang", "button", "heading"),
    [
        ("ja", "ja", "ログイン", "Tokui にログイン"),
        ("ko-KR,ko;q=0.9", "ko", "로그인", "Tokui에 로그인"),
        ("en-US,en;q=0.9", "en", "Log in", "Log in to Tokui"),
    ],
)
def test_login_page_speaks_the_browser_language(client, db, accept_language, lang, button, heading):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE=accept_language)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    assert f'<h1 class="h3 mb-3">{heading}</h1>' in html
    assert f'<button type="submit" class="btn btn-primary w-100">{button}</button>' in html


def test_language_switcher_turns_the_customer_list_korean(client, users, customer):
    client.force_login(users[Role.ACCOUNT_MANAGER])
    list_url = reverse("customers:list")
    before = client.get(list_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 customer" in before

    response = client.post(reverse("set_language"), {"language": "ko", "next": list_url})

    assert response.status_code == 302
    assert response["Location"] == list_url
    html = client.get(list_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="ko">' in html
    assert "고객 1명" in html  # the result count
    assert ">활성<" in html  # the customer's status, active
    assert ">로그아웃</button>" in html
    assert "1 customer" not in html


def test_japanese_card_and_history_show_japanese_dates(client, users, customer):
    manager = users[Role.ACCOUNT_MANAGER]
    PersonFactory(customer=customer, name="山田花子", birthday=datetime.date(1980, 4, 5))
    services.customer_update(
        actor=manager, customer=customer, data={"notes": "月末に訪問"}, expected_version=1
    )
    change = ObjectChange.objects.get(action="update")
    changed_at = timezone.localtime(change.time)
    client.force_login(manager)

    card = client.get(reverse("customers:detail", args=[customer.code]), HTTP_ACCEPT_LANGUAGE="ja")
    history = client.get(
        reverse("customers:history", args=[customer.code]), HTTP_ACCEPT_LANGUAGE="ja"
    )
    korean_card = client.get(
        reverse("customers:detail", args=[customer.code]), HTTP_ACCEPT_LANGUAGE="ko"
    )

    assert "1980年4月5日" in card.content.decode()
    assert ">誕生日<" in card.content.decode()
    assert f">{dateformat.format(changed_at, 'Y/m/d G:i')}</time>" in history.content.decode()
    assert '<h1 class="h3 mb-3">山田商店 の変更履歴</h1>' in history.content.decode()
    assert "1980년 4월 5일" in korean_card.content.decode()
    assert "April 5, 1980" not in card.content.decode() + korean_card.content.decode()


def test_choice_card_fields_show_their_label_in_the_readers_language(client, users, customer):
    from tokui.core.testing.factories import labelled_payment_fields

    labelled_payment_fields()
    customer.field_values = {"payment": "e_money", "also_pays": ["e_money", "qr_code"]}
    customer.save()
    client.force_login(users[Role.ACCOUNT_MANAGER])

    def page(name, language):
        url = reverse(f"customers:{name}", args=[customer.code])
        return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    japanese, korean, english = (page("detail", lang) for lang in ("ja", "ko", "en"))
    assert re.search(r">\s*電子マネー\s*<", japanese)
    assert "電子マネー, QRコード決済" in japanese
    assert "전자화폐, QR code payment" in korean  # English where a language has no label
    assert re.search(r">\s*E-money\s*<", english)
    assert "e_money" not in japanese + korean + english
    # The edit form offers the labels and sends the choices.
    assert '<option value="e_money" selected>電子マネー</option>' in page("edit", "ja")


def test_history_and_change_requests_show_choice_labels(client, users, customer):
    from tokui.approvals.services import change_request_create
    from tokui.core.testing.factories import FieldDefinitionFactory

    labels = {
        "cash": {"en": "Cash", "ja": "現金", "ko": "현금"},
        "bank_transfer": {"en": "Bank transfer", "ja": "銀行振込", "ko": "계좌이체"},
    }
    FieldDefinitionFactory(
        key="payment", field_type="choice", choices=list(labels), choice_labels=labels
    )
    FieldDefinitionFactory(
        key="terms",
        field_type="choice",
        choices=list(labels),
        choice_labels=labels,
        controlled=True,
    )
    am = users[Role.ACCOUNT_MANAGER]
    customer = services.customer_update(
        actor=am, customer=customer, data={"field_values": {"payment": "cash"}}, expected_version=1
    )
    services.customer_update(
        actor=am,
        customer=customer,
        data={"field_values": {"payment": "bank_transfer"}},
        expected_version=customer.version,
    )
    request = change_request_create(
        actor=am, customer=customer, proposed={"terms": "bank_transfer"}, reason="月末締め"
    )
    client.force_login(am)

    history = client.get(
        reverse("customers:history", args=[customer.code]), HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    asked = client.get(
        reverse("approvals:detail", args=[request.pk]), HTTP_ACCEPT_LANGUAGE="ko"
    ).content.decode()

    assert "現金" in history and "銀行振込" in history
    assert "계좌이체" in asked
    assert "bank_transfer" not in history + asked
