"""Fill a benchmark database with many realistic customer cards, fast.

Names come from pools built once from Faker's ja_JP, ko_KR and en_US data and are
combined at random, so 100,000 cards take seconds, not minutes. Rows are written
with ``bulk_create`` (no services, no audit rows): this is a dataset for reading.
"""

import random
from dataclasses import dataclass

from django.db import connection, transaction
from faker.providers.person.en_US import Provider as EnglishPeople
from faker.providers.person.ja_JP import Provider as JapanesePeople
from faker.providers.person.ko_KR import Provider as KoreanPeople

from tokui.accounts.models import Area
from tokui.customers.choices import CustomerKind, CustomerStatus
from tokui.customers.models import Customer, Tag
from tokui.users.choices import Role
from tokui.users.models import User

BATCH_SIZE = 5000

# Leaf areas by country; customers of a language live in that country's areas.
AREAS = {
    "JP": ("Japan", [("TKY", "Tokyo"), ("OSK", "Osaka"), ("NGY", "Nagoya"), ("FUK", "Fukuoka")]),
    "KR": ("Korea", [("SEL", "Seoul"), ("PUS", "Busan")]),
    "US": ("United States", [("NYC", "New York")]),
}
ACCOUNT_MANAGERS_PER_AREA = 2
LANGUAGES = (("ja", 60), ("ko", 25), ("en", 15))
COUNTRY_OF = {"ja": "JP", "ko": "KR", "en": "US"}
KINDS = ((CustomerKind.PERSON, 40), (CustomerKind.SHOP, 40), (CustomerKind.COMPANY, 20))
STATUSES = (
    (CustomerStatus.ACTIVE, 60),
    (CustomerStatus.PROSPECT, 15),
    (CustomerStatus.DORMANT, 15),
    (CustomerStatus.LOST, 7),
    (CustomerStatus.BLOCKED, 3),
)
TAGS = ("VIP", "年賀状", "Route A", "신규")

JA_SHOP_SUFFIXES = (
    ("商店", "ショウテン"),
    ("酒店", "サカテン"),
    ("薬局", "ヤッキョク"),
    ("米穀店", "ベイコクテン"),
    ("青果", "セイカ"),
    ("書店", "ショテン"),
    ("食堂", "ショクドウ"),
    ("呉服店", "ゴフクテン"),
)
JA_COMPANY_SUFFIXES = (
    ("商事", "ショウジ"),
    ("物産", "ブッサン"),
    ("工業", "コウギョウ"),
    ("電機", "デンキ"),
    ("食品", "ショクヒン"),
    ("建設", "ケンセツ"),
    ("運輸", "ウンユ"),
)
KO_SHOP_SUFFIXES = ("상회", "마트", "슈퍼", "약국", "식당", "문구")
KO_COMPANY_SUFFIXES = ("상사", "산업", "물산", "전자", "식품")
EN_SHOP_SUFFIXES = ("Store", "Market", "Pharmacy", "Books", "Deli", "Hardware")
# (prefix, digits in the middle group): landlines of big cities and mobiles.
JA_PHONE_PREFIXES = (("03", 4), ("06", 4), ("090", 4), ("080", 4), ("052", 3), ("092", 3))
KO_PHONE_PREFIXES = (("02", 4), ("010", 4), ("051", 3))
EN_COMPANY_SUFFIXES = ("Trading", "& Sons", "Supply Co.", "Foods", "Industries", "Ltd.")


@dataclass
class BenchUsers:
    administrator: User
    account_manager: User


def _weighted(rng: random.Random, table):
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


class NameMaker:
    """Builds (name, reading) pairs from pre-generated pools; readings only for Japanese."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.ja_last = list(JapanesePeople.last_name_pairs)
        self.ja_first = list(JapanesePeople.first_name_female_pairs) + list(
            JapanesePeople.first_name_male_pairs
        )
        self.ko_last = list(KoreanPeople.last_names)
        self.ko_first = list(KoreanPeople.first_names)
        self.en_last = list(EnglishPeople.last_names)
        self.en_first = list(EnglishPeople.first_names)

    def make(self, language: str, kind: str) -> tuple[str, str]:
        choice = self.rng.choice
        if language == "ja":
            last, last_kana, _ = choice(self.ja_last)
            if kind == CustomerKind.PERSON:
                first, first_kana, _ = choice(self.ja_first)
                return f"{last} {first}", f"{last_kana} {first_kana}"
            if kind == CustomerKind.SHOP:
                suffix, suffix_kana = choice(JA_SHOP_SUFFIXES)
                return f"{last}{suffix}", f"{last_kana}{suffix_kana}"
            suffix, suffix_kana = choice(JA_COMPANY_SUFFIXES)
            # The legal-form prefix is not read when sorting, so it stays out of the reading.
            return f"株式会社{last}{suffix}", f"{last_kana}{suffix_kana}"
        if language == "ko":
            person = f"{choice(self.ko_last)}{choice(self.ko_first)}"
            if kind == CustomerKind.PERSON:
                return person, ""
            if kind == CustomerKind.SHOP:
                return f"{person}{choice(KO_SHOP_SUFFIXES)}", ""
            return f"(주){choice(self.ko_first)}{choice(KO_COMPANY_SUFFIXES)}", ""
        last = choice(self.en_last)
        if kind == CustomerKind.PERSON:
            return f"{choice(self.en_first)} {last}", ""
        if kind == CustomerKind.SHOP:
            return f"{last}'s {choice(EN_SHOP_SUFFIXES)}", ""
        return f"{last} {choice(EN_COMPANY_SUFFIXES)}", ""


def _phone(rng: random.Random, language: str) -> str:
    def digits(n: int) -> str:
        return "".join(rng.choices("0123456789", k=n))

    if rng.random() < 0.1:
        return ""  # not every card has a phone yet
    if language == "ja":
        prefix, middle = rng.choice(JA_PHONE_PREFIXES)
        return f"{prefix}-{digits(middle)}-{digits(4)}"
    if language == "ko":
        prefix, middle = rng.choice(KO_PHONE_PREFIXES)
        return f"{prefix}-{digits(middle)}-{digits(4)}"
    return f"+1 212-555-{digits(4)}"


def create_areas_and_users() -> tuple[dict[str, list[Area]], dict[str, list[User]], BenchUsers]:
    leaves_by_country: dict[str, list[Area]] = {}
    managers_by_area: dict[str, list[User]] = {}
    for country_code, (country_name, leaves) in AREAS.items():
        country = Area(code=country_code, name=country_name)
        country.path = country.build_path()
        country.save()
        leaves_by_country[country_code] = []
        for code, name in leaves:
            area = Area(code=code, name=name, parent=country)
            area.path = area.build_path()
            area.save()
            leaves_by_country[country_code].append(area)
            managers_by_area[code] = []
            for number in range(1, ACCOUNT_MANAGERS_PER_AREA + 1):
                manager = User(
                    username=f"am_{code.lower()}_{number}",
                    first_name=f"{name} {number}",
                    last_name="Account manager",
                    role=Role.ACCOUNT_MANAGER,
                    area=area,
                )
                manager.set_unusable_password()
                manager.save()
                managers_by_area[code].append(manager)
    administrator = User(username="bench_admin", role=Role.ADMINISTRATOR)
    administrator.set_unusable_password()
    administrator.save()
    users = BenchUsers(administrator=administrator, account_manager=managers_by_area["TKY"][0])
    return leaves_by_country, managers_by_area, users


@transaction.atomic
def fill(count: int, *, seed: int = 2) -> BenchUsers:
    """Create areas, users, tags and ``count`` customers; returns the users the benchmark uses."""
    rng = random.Random(seed)
    leaves_by_country, managers_by_area, users = create_areas_and_users()
    tags = [Tag.objects.create(name=name) for name in TAGS]
    names = NameMaker(rng)

    customers: list[Customer] = []
    for number in range(1, count + 1):
        language = _weighted(rng, LANGUAGES)
        kind = _weighted(rng, KINDS)
        area = rng.choice(leaves_by_country[COUNTRY_OF[language]])
        name, reading = names.make(language, kind)
        customer = Customer(
            code=f"{area.code}-{number:06d}",
            kind=kind,
            name=name,
            name_reading=reading,
            status=_weighted(rng, STATUSES),
            owner=rng.choice(managers_by_area[area.code]),
            area=area,
            phone=_phone(rng, language),
        )
        customer.refresh_search()
        customers.append(customer)
    Customer.objects.bulk_create(customers, batch_size=BATCH_SIZE)
    if any(c.pk is None for c in customers):  # a backend without RETURNING on bulk inserts
        ids = dict(Customer.objects.values_list("code", "id"))
        for customer in customers:
            customer.pk = ids[customer.code]

    tag_links = []
    assignments = []
    for customer in customers:
        if rng.random() < 0.25:
            for tag in rng.sample(tags, k=rng.choice((1, 1, 2))):
                tag_links.append(Customer.tags.through(customer_id=customer.pk, tag_id=tag.pk))
        # A few cards are shared with a colleague, so the "own" scope's EXISTS has work to do.
        if rng.random() < 0.03:
            colleague = rng.choice(managers_by_area[customer.area.code])
            if colleague.pk != customer.owner_id:
                assignments.append(
                    Customer.assigned_users.through(customer_id=customer.pk, user_id=colleague.pk)
                )
    Customer.tags.through.objects.bulk_create(tag_links, batch_size=BATCH_SIZE)
    Customer.assigned_users.through.objects.bulk_create(assignments, batch_size=BATCH_SIZE)
    return users


def analyze() -> None:
    """PostgreSQL plans from statistics; autovacuum would gather them soon after a real import."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
