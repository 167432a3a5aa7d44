"""Demo data: an area tree, one user per role, a card field preset and realistic customers.

Two scenarios from the requirements: a clothing ``store`` with branches in Tokyo, Osaka
and Seoul whose customers are mostly people, and a ``distributor`` whose account
managers serve small shops on delivery routes. Names come from Faker's ja_JP, ko_KR and
en_US locales with matching readings (kana for Japanese names, hangul for Korean).

The same seed gives the same customers. Cards are written with ``bulk_create`` in
batches, so 10,000 customers load in seconds; each card, person, address and consent
still gets its "create" audit row, so a card's history starts with its creation.
"""

import datetime
import itertools
import random
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from faker import Faker
from faker.providers.person import en_US, ja_JP, ko_KR

from tokui.accounts.models import Area
from tokui.accounts.services import area_create
from tokui.approvals.services import change_request_create
from tokui.audit.context import reset_request_id, set_request_id
from tokui.audit.services import record_changes_bulk
from tokui.fields.choices import FieldType
from tokui.fields.models import LONG_TEXT_MAX_LENGTH, TEXT_MAX_LENGTH, FieldDefinition
from tokui.fields.selectors import active_field_definitions
from tokui.fields.services import field_preset_load, to_json_value
from tokui.users.choices import Role
from tokui.users.models import User
from tokui.users.services import user_create

from .choices import AddressKind, Channel, CustomerKind, CustomerStatus, Gender, Relation
from .models import Address, Consent, Customer, Person, Tag
from .services import CUSTOMER_FIELDS

DEMO_PASSWORD = "tokui-demo"  # noqa: S105 - printed on purpose: demo log-ins only
DEFAULT_CUSTOMERS = 300
DEFAULT_SEED = 2024
BATCH_SIZE = 1000
# Dates are drawn around a fixed day, not today, so a seed gives the same data every day.
REFERENCE_DAY = datetime.date(2025, 4, 1)


class DemoError(Exception):
    """The demo data cannot be loaded as asked; the message says why."""


@dataclass(frozen=True)
class Place:
    """Where a leaf area's customers live: addresses, phones and map positions come from it."""

    country: str  # JP or KR
    region: str
    cities: tuple[str, ...]
    phone_area_code: str
    position: tuple[float, float]


@dataclass(frozen=True)
class AreaSpec:
    code: str
    name: str
    parent: str | None = None
    place: Place | None = None  # only leaf areas hold customers
    weight: int = 0  # their share of the customers


@dataclass(frozen=True)
class UserSpec:
    username: str
    role: str
    first_name: str
    last_name: str
    area: str | None = None


@dataclass(frozen=True)
class Scenario:
    preset: str
    code_prefix: str
    kinds: dict[str, int]
    tags: tuple[str, ...]
    areas: tuple[AreaSpec, ...]
    users: tuple[UserSpec, ...]


_COMMON_USERS = (
    UserSpec("admin", Role.ADMINISTRATOR, "Haruka", "Sato"),
    UserSpec("manager", Role.MANAGER, "Kenji", "Watanabe", "JP"),
    UserSpec("manager_kr", Role.MANAGER, "Minjun", "Kim", "KR"),
    UserSpec("agent", Role.SERVICE_AGENT, "Yui", "Nakamura"),
    UserSpec("analyst", Role.ANALYST, "Daniel", "Park"),
    UserSpec("auditor", Role.AUDITOR, "Emily", "Clark"),
)

_TOKYO = Place(
    "JP",
    "東京都",
    ("中央区", "千代田区", "港区", "渋谷区", "新宿区", "目黒区", "世田谷区", "品川区"),
    "03",
    (35.6812, 139.7671),
)
_KANAGAWA = Place(
    "JP",
    "神奈川県",
    ("横浜市中区", "横浜市西区", "川崎市川崎区", "相模原市"),
    "045",
    (35.4437, 139.6380),
)
_SAITAMA = Place(
    "JP", "埼玉県", ("さいたま市大宮区", "川口市", "川越市", "所沢市"), "048", (35.8617, 139.6455)
)
_OSAKA = Place(
    "JP",
    "大阪府",
    ("北区", "中央区", "西区", "天王寺区", "浪速区", "福島区", "都島区"),
    "06",
    (34.6937, 135.5023),
)
_KYOTO = Place(
    "JP", "京都府", ("京都市中京区", "京都市下京区", "宇治市", "亀岡市"), "075", (35.0116, 135.7681)
)
_SEOUL = Place(
    "KR",
    "서울특별시",
    ("중구", "종로구", "강남구", "서초구", "송파구", "마포구", "용산구", "성동구"),
    "02",
    (37.5665, 126.9780),
)
_GYEONGGI = Place(
    "KR", "경기도", ("수원시", "성남시", "고양시", "용인시", "부천시"), "031", (37.2636, 127.0286)
)

SCENARIOS: dict[str, Scenario] = {
    "store": Scenario(
        preset="retail_store",
        code_prefix="S",
        kinds={CustomerKind.PERSON: 92, CustomerKind.COMPANY: 5, CustomerKind.SHOP: 3},
        tags=("VIP", "regular", "gift buyer", "made to order", "newsletter", "event guest"),
        areas=(
            AreaSpec("JP", "Japan"),
            AreaSpec("TKY", "Tokyo", "JP"),
            AreaSpec("TKY-GINZA", "Ginza store", "TKY", _TOKYO, 30),
            AreaSpec("TKY-SHIBUYA", "Shibuya store", "TKY", _TOKYO, 25),
            AreaSpec("OSK", "Osaka", "JP"),
            AreaSpec("OSK-UMEDA", "Umeda store", "OSK", _OSAKA, 20),
            AreaSpec("KR", "Korea"),
            AreaSpec("SEL", "Seoul", "KR"),
            AreaSpec("SEL-MYEONGDONG", "Myeongdong store", "SEL", _SEOUL, 15),
            AreaSpec("SEL-GANGNAM", "Gangnam store", "SEL", _SEOUL, 10),
        ),
        users=(
            *_COMMON_USERS,
            UserSpec("am_ginza", Role.ACCOUNT_MANAGER, "Aoi", "Takahashi", "TKY-GINZA"),
            UserSpec("am_ginza2", Role.ACCOUNT_MANAGER, "Sota", "Ito", "TKY-GINZA"),
            UserSpec("am_shibuya", Role.ACCOUNT_MANAGER, "Mei", "Kobayashi", "TKY-SHIBUYA"),
            UserSpec("am_umeda", Role.ACCOUNT_MANAGER, "Riku", "Yamamoto", "OSK-UMEDA"),
            UserSpec("am_myeongdong", Role.ACCOUNT_MANAGER, "Seoyeon", "Lee", "SEL-MYEONGDONG"),
            UserSpec("am_gangnam", Role.ACCOUNT_MANAGER, "Jihoon", "Choi", "SEL-GANGNAM"),
        ),
    ),
    "distributor": Scenario(
        preset="wholesale_distributor",
        code_prefix="D",
        kinds={CustomerKind.SHOP: 75, CustomerKind.COMPANY: 25},
        tags=("key account", "new outlet", "cash on delivery", "promotion", "open 24h", "chain"),
        areas=(
            AreaSpec("JP", "Japan"),
            AreaSpec("KANTO", "Kanto region", "JP"),
            AreaSpec("KANTO-R1", "Kanto route 1 (Tokyo)", "KANTO", _TOKYO, 15),
            AreaSpec("KANTO-R2", "Kanto route 2 (Kanagawa)", "KANTO", _KANAGAWA, 15),
            AreaSpec("KANTO-R3", "Kanto route 3 (Saitama)", "KANTO", _SAITAMA, 10),
            AreaSpec("KANSAI", "Kansai region", "JP"),
            AreaSpec("KANSAI-R1", "Kansai route 1 (Osaka)", "KANSAI", _OSAKA, 15),
            AreaSpec("KANSAI-R2", "Kansai route 2 (Kyoto)", "KANSAI", _KYOTO, 10),
            AreaSpec("KR", "Korea"),
            AreaSpec("SUDO", "Seoul capital region", "KR"),
            AreaSpec("SUDO-R1", "Seoul route 1", "SUDO", _SEOUL, 20),
            AreaSpec("SUDO-R2", "Gyeonggi route 2", "SUDO", _GYEONGGI, 15),
        ),
        users=(
            *_COMMON_USERS,
            UserSpec("am_kanto1", Role.ACCOUNT_MANAGER, "Takumi", "Suzuki", "KANTO-R1"),
            UserSpec("am_kanto2", Role.ACCOUNT_MANAGER, "Hina", "Kato", "KANTO-R2"),
            UserSpec("am_kanto3", Role.ACCOUNT_MANAGER, "Ren", "Yoshida", "KANTO-R3"),
            UserSpec("am_kansai1", Role.ACCOUNT_MANAGER, "Sakura", "Yamada", "KANSAI-R1"),
            UserSpec("am_kansai2", Role.ACCOUNT_MANAGER, "Kaito", "Sasaki", "KANSAI-R2"),
            UserSpec("am_seoul1", Role.ACCOUNT_MANAGER, "Jiwoo", "Park", "SUDO-R1"),
            UserSpec("am_seoul2", Role.ACCOUNT_MANAGER, "Hayoon", "Jung", "SUDO-R2"),
        ),
    ),
}

# Every username any scenario creates, in the order log-ins are listed.
DEMO_USERNAMES = tuple(
    dict.fromkeys(spec.username for scenario in SCENARIOS.values() for spec in scenario.users)
)

_NAME_PROVIDERS = {"ja": ja_JP.Provider, "ko": ko_KR.Provider, "en": en_US.Provider}
_STATUS_WEIGHTS = {
    CustomerStatus.ACTIVE: 62,
    CustomerStatus.PROSPECT: 14,
    CustomerStatus.DORMANT: 13,
    CustomerStatus.LOST: 8,
    CustomerStatus.BLOCKED: 3,
}
_LOCALES_BY_COUNTRY = {"JP": {"ja": 85, "en": 15}, "KR": {"ko": 85, "en": 10, "ja": 5}}

_JA_SHOP_SUFFIXES = (
    ("商店", "ショウテン"),
    ("酒店", "サケテン"),
    ("食品", "ショクヒン"),
    ("ストア", "ストア"),
    ("マート", "マート"),
    ("屋", "ヤ"),
)
_JA_COMPANY_SUFFIXES = (("商事", "ショウジ"), ("物産", "ブッサン"), ("産業", "サンギョウ"))
_KO_SHOP_PREFIXES = ("행복", "우리", "제일", "새봄", "한빛", "푸른", "온누리", "대박")
_KO_SHOP_SUFFIXES = ("마트", "슈퍼", "상회", "식품", "편의점")
_KO_COMPANY_SUFFIXES = ("상사", "물산", "유통", "산업")
_EN_SHOP_SUFFIXES = ("Market", "Grocery", "Corner Store", "Deli", "Liquor")
_EN_COMPANY_SUFFIXES = ("Trading", "Foods", "Supply", "Holdings")

_HOBBIES = {
    "ja": ("ゴルフ", "釣り", "茶道", "旅行", "料理", "読書", "野球観戦", "ワイン", "園芸", "写真"),
    "ko": ("등산", "골프", "낚시", "요리", "독서", "여행", "야구 관람", "와인", "사진", "캠핑"),
    "en": ("golf", "fishing", "hiking", "cooking", "reading", "travel", "wine", "gardening"),
}
_PREFERENCES = {
    "store": {
        "ja": ("紺とグレーが好み", "サイズM", "着物の小物に関心", "セール案内を希望", "無地を好む"),
        "ko": ("네이비와 회색 선호", "사이즈 M", "정장 선호", "세일 안내 희망", "무지 선호"),
        "en": ("likes navy and grey", "size M", "prefers plain fabrics", "wants sale notices"),
    },
    "distributor": {
        "ja": ("午前中の配達希望", "新商品の案内を歓迎", "電話注文が多い", "値引きに敏感"),
        "ko": ("오전 배송 희망", "신제품 안내 환영", "전화 주문 위주", "할인에 민감"),
        "en": ("morning deliveries", "welcomes new products", "orders by phone", "price sensitive"),
    },
}
_CONSENT_SOURCES = ("signed form", "phone call", "web form", "in the store", "visit")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    area: str


@dataclass
class DemoResult:
    scenario: str
    customers: int = 0
    people: int = 0
    addresses: int = 0
    consents: int = 0
    users_created: list[str] = field(default_factory=list)


def database_is_empty() -> bool:
    """No customers and no users: only then may ``tokui run`` fill it with demo data.

    A database that already has users is somebody's real installation waiting for its
    customers; demo accounts with a printed password have no place there.
    """
    return not Customer.objects.exists() and not User.objects.exists()


def demo_logins() -> list[DemoLogin]:
    """The demo users present in this database whose password still is the demo password.

    A real user who happens to be called "admin" is not listed. Demo users share one
    password hash, so checking each distinct hash once keeps this to one argon2 check.
    """
    candidates = User.objects.filter(username__in=DEMO_USERNAMES, is_active=True)
    by_hash: dict[str, list[User]] = {}
    for user in candidates.select_related("area"):
        by_hash.setdefault(user.password, []).append(user)
    users = {
        user.username: user
        for encoded, group in by_hash.items()
        if check_password(DEMO_PASSWORD, encoded)
        for user in group
    }
    return [
        DemoLogin(name, users[name].role, users[name].area.code if users[name].area_id else "")
        for name in DEMO_USERNAMES
        if name in users
    ]


def demo_codes(scenario: str, customers: int) -> list[str]:
    prefix = SCENARIOS[scenario].code_prefix
    return [f"{prefix}-{n:06d}" for n in range(1, customers + 1)]


def demo_load(
    *, scenario: str = "store", customers: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED
) -> DemoResult:
    """Load a scenario's areas, users, field preset and ``customers`` cards.

    Refuses (``DemoError``) when cards with the demo's codes already exist, so running it
    twice does not duplicate or half-write anything. Areas and users are reused when present.
    """
    if scenario not in SCENARIOS:
        raise DemoError(f"Unknown scenario {scenario!r}. Choose one of: {', '.join(SCENARIOS)}.")
    if customers < 0:
        raise DemoError("The number of customers cannot be negative.")
    spec = SCENARIOS[scenario]
    codes = demo_codes(scenario, customers)
    token = set_request_id(f"demo-{uuid.uuid4().hex[:12]}")
    try:
        with transaction.atomic():
            taken = _existing_codes(codes)
            if taken:
                raise DemoError(
                    f"{len(taken)} of the demo customer codes already exist (e.g. {taken[0]}): "
                    f"the {scenario} demo data is already loaded. Use an empty database."
                )
            result = DemoResult(scenario=scenario)
            areas = _ensure_areas(spec)
            users = _ensure_users(spec, areas, result)
            admin = users["admin"]
            field_preset_load(actor=admin, name=spec.preset)
            _Generator(spec, scenario, seed, areas, users, admin).create(codes, result)
            _ask_for_one_controlled_change(users)
    finally:
        reset_request_id(token)
    return result


def _ask_for_one_controlled_change(users: dict[str, User]) -> None:
    """One pending change request, so the approval queue and inbox have something to show
    (GOV-2): the first account manager asks to change a controlled choice or text field
    of their first card."""
    definition = (
        FieldDefinition.objects.filter(
            controlled=True, field_type__in=[FieldType.CHOICE, FieldType.TEXT]
        )
        .order_by("category", "order")
        .first()
    )
    requester = next((u for u in users.values() if u.role == Role.ACCOUNT_MANAGER), None)
    if definition is None or requester is None:
        return
    customer = Customer.objects.filter(owner=requester).order_by("code").first()
    if customer is None:
        return
    current = (customer.field_values or {}).get(definition.key)
    if definition.field_type == FieldType.CHOICE:
        value = next((c for c in definition.choices if c != current), None)
    else:
        value = f"{current or 'NEW'}-2"[: definition.max_length or 100]
    if value is None:
        return
    change_request_create(
        actor=requester,
        customer=customer,
        proposed={definition.key: value},
        reason="Agreed with the customer at the last visit.",
    )


def _existing_codes(codes: list[str]) -> list[str]:
    found: list[str] = []
    # Chunks keep each query under SQLite's limit on bound parameters.
    for start in range(0, len(codes), 900):
        chunk = codes[start : start + 900]
        found.extend(Customer.objects.filter(code__in=chunk).values_list("code", flat=True))
    return sorted(found)


def _ensure_areas(spec: Scenario) -> dict[str, Area]:
    areas = {a.code: a for a in Area.objects.filter(code__in=[s.code for s in spec.areas])}
    for area_spec in spec.areas:
        if area_spec.code not in areas:
            parent = areas[area_spec.parent] if area_spec.parent else None
            areas[area_spec.code] = area_create(
                code=area_spec.code, name=area_spec.name, parent=parent
            )
    return areas


def _ensure_users(spec: Scenario, areas: dict[str, Area], result: DemoResult) -> dict[str, User]:
    wanted = [s.username for s in spec.users]
    users = {u.username: u for u in User.objects.filter(username__in=wanted)}
    created = []
    for user_spec in spec.users:
        if user_spec.username in users:
            if users[user_spec.username].role != user_spec.role:
                raise DemoError(
                    f"User {user_spec.username!r} exists with the role "
                    f"{users[user_spec.username].role}; the demo needs it as {user_spec.role}. "
                    "Load the demo into an empty database."
                )
            continue
        users[user_spec.username] = user_create(
            username=user_spec.username,
            role=user_spec.role,
            area=areas[user_spec.area] if user_spec.area else None,
            email=f"{user_spec.username}@example.com",
            first_name=user_spec.first_name,
            last_name=user_spec.last_name,
        )
        created.append(users[user_spec.username].pk)
        result.users_created.append(user_spec.username)
    if created:
        # Demo only: one short, printed password for everybody, hashed once (argon2 takes
        # a good fraction of a second per hash, by design).
        User.objects.filter(pk__in=created).update(password=make_password(DEMO_PASSWORD))
    return users


def _plain(value):
    if value is None or isinstance(value, (bool, int, str, list)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _snapshot(instance, fields) -> dict:
    return {name: _plain(getattr(instance, name)) for name in fields}


@dataclass
class _Card:
    """One customer with everything that hangs off the card, before it is saved."""

    customer: Customer
    language: str
    place: Place
    gender: str
    tags: list[Tag] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)

    def person(self, *relations: str) -> Person | None:
        return next((p for p in self.people if p.relation in relations), None)


class _Generator:
    def __init__(self, spec: Scenario, scenario: str, seed: int, areas, users, admin):
        self.spec = spec
        self.scenario = scenario
        self.admin = admin
        self.areas = areas
        self.rng = random.Random(seed)
        self.fakers = {}
        for offset, (language, locale) in enumerate(
            (("ja", "ja_JP"), ("ko", "ko_KR"), ("en", "en_US"))
        ):
            faker = Faker(locale)
            faker.seed_instance(seed * 10 + offset)
            self.fakers[language] = faker
        self._tables: dict[tuple[str, str], tuple[list, list | None]] = {}
        self.leaves = [a for a in spec.areas if a.place]
        self.leaf_weights = [a.weight for a in self.leaves]
        # Account managers serve the customers of their area and of the areas below it.
        self.owners = {
            leaf.code: sorted(
                (
                    u
                    for u in users.values()
                    if u.role == Role.ACCOUNT_MANAGER
                    and u.area_id
                    and areas[leaf.code].path.startswith(u.area.path)
                ),
                key=lambda u: u.username,
            )
            for leaf in self.leaves
        }
        self.tags = [_tag(name) for name in spec.tags]
        # A fixed order, so the values drawn do not depend on the order rows come back in.
        self.definitions = sorted(
            (d for d in active_field_definitions() if not d.is_derived), key=lambda d: d.key
        )

    def create(self, codes: list[str], result: DemoResult) -> None:
        for start in range(0, len(codes), BATCH_SIZE):
            self._save([self._card(code) for code in codes[start : start + BATCH_SIZE]], result)

    # --- writing -------------------------------------------------------------------------

    def _save(self, cards: list[_Card], result: DemoResult) -> None:
        for card in cards:
            phones = [p for person in card.people for p in (person.phone, person.mobile) if p]
            card.customer.refresh_search(extra_phones=phones)
        customers = Customer.objects.bulk_create([c.customer for c in cards])
        if any(c.pk is None for c in customers):  # pragma: no cover - both databases return ids
            raise DemoError("The database did not return the new customers' ids.")
        Customer.tags.through.objects.bulk_create(
            Customer.tags.through(customer_id=card.customer.pk, tag_id=tag.pk)
            for card in cards
            for tag in card.tags
        )
        for card in cards:
            for row in (*card.people, *card.addresses, *card.consents):
                row.customer = card.customer
        people = Person.objects.bulk_create([p for c in cards for p in c.people])
        addresses = Address.objects.bulk_create([a for c in cards for a in c.addresses])
        consents = Consent.objects.bulk_create([k for c in cards for k in c.consents])
        # One "create" row per card starts its history. People, addresses and consent
        # arrive with the card; rows of their own would triple the load time for nothing.
        record_changes_bulk(
            actor=self.admin,
            action="create",
            rows=[(c.customer, None, _customer_after(c), c.customer.pk) for c in cards],
        )
        result.customers += len(customers)
        result.people += len(people)
        result.addresses += len(addresses)
        result.consents += len(consents)

    # --- one card ------------------------------------------------------------------------

    def _card(self, code: str) -> _Card:
        rng = self.rng
        leaf = rng.choices(self.leaves, self.leaf_weights)[0]
        place = leaf.place
        languages = _LOCALES_BY_COUNTRY[place.country]
        language = rng.choices(list(languages), list(languages.values()))[0]
        kind = rng.choices(list(self.spec.kinds), list(self.spec.kinds.values()))[0]
        gender = rng.choice((Gender.FEMALE, Gender.MALE))
        if kind == CustomerKind.PERSON:
            name, reading, romanized = self._person_name(language, gender)
        else:
            name, reading, romanized = self._business_name(language, kind)
        owners = self.owners[leaf.code]
        customer = Customer(
            code=code,
            kind=kind,
            name=name,
            name_reading=reading,
            status=rng.choices(list(_STATUS_WEIGHTS), list(_STATUS_WEIGHTS.values()))[0],
            owner=rng.choice(owners) if owners else None,
            area=self.areas[leaf.code],
            phone=self._phone(place, mobile=kind == CustomerKind.PERSON and rng.random() < 0.6),
            email=self._email(romanized) if rng.random() < 0.7 else "",
        )
        card = _Card(customer=customer, language=language, place=place, gender=gender)
        card.tags = sorted(
            rng.sample(self.tags, k=rng.choices((0, 1, 2), (45, 40, 15))[0]), key=lambda t: t.name
        )
        card.people = self._people(card)
        card.addresses = self._addresses(card)
        card.consents = self._consents()
        granted = [c.channel for c in card.consents if c.granted]
        customer.preferred_channel = rng.choice(granted) if granted and rng.random() < 0.8 else ""
        customer.field_values = self._field_values(card)
        return card

    def _pick(self, language: str, attribute: str):
        """A weighted draw from one of Faker's name lists, with our own seeded generator.

        Faker's own weighted draw recomputes its weights on every call; the lists are
        prepared once here, which makes names the cheapest part of a card.
        """
        key = (language, attribute)
        table = self._tables.get(key)
        if table is None:
            source = getattr(_NAME_PROVIDERS[language], attribute)
            if isinstance(source, dict):
                table = (list(source), list(itertools.accumulate(source.values())))
            else:
                table = (list(source), None)
            self._tables[key] = table
        values, cum_weights = table
        return self.rng.choices(values, cum_weights=cum_weights)[0]

    def _person_name(self, language: str, gender: str) -> tuple[str, str, str]:
        """(name, reading, a romanized form for e-mail addresses)."""
        female = gender == Gender.FEMALE
        if language == "ja":
            last, last_kana, last_roman = self._pick("ja", "last_name_pairs")
            first, first_kana, first_roman = self._pick(
                "ja", "first_name_female_pairs" if female else "first_name_male_pairs"
            )
            return f"{last} {first}", f"{last_kana} {first_kana}", f"{first_roman}.{last_roman}"
        first_names = "first_names_female" if female else "first_names_male"
        if language == "ko":
            name = self._pick("ko", "last_names") + self._pick("ko", first_names)
            # Hangul is its own reading: the name sorts and searches as written.
            return name, name, f"{self._pick('en', first_names)}.{self._pick('en', 'last_names')}"
        name = f"{self._pick('en', first_names)} {self._pick('en', 'last_names')}"
        return name, name, name.replace(" ", ".")

    def _business_name(self, language: str, kind: str) -> tuple[str, str, str]:
        rng = self.rng
        if language == "ja":
            last, kana, roman = self._pick("ja", "last_name_pairs")
            if kind == CustomerKind.COMPANY:
                suffix, suffix_kana = rng.choice(_JA_COMPANY_SUFFIXES)
                # The legal form is not read when sorting: 株式会社山田商事 files under ヤ.
                return f"株式会社{last}{suffix}", f"{kana}{suffix_kana}", roman
            suffix, suffix_kana = rng.choice(_JA_SHOP_SUFFIXES)
            return f"{last}{suffix}", f"{kana}{suffix_kana}", roman
        if language == "ko":
            if kind == CustomerKind.COMPANY:
                stem = self._pick("ko", "last_names") + rng.choice(_KO_COMPANY_SUFFIXES)
                return f"(주){stem}", stem, self._pick("en", "last_names")
            name = rng.choice(_KO_SHOP_PREFIXES) + rng.choice(_KO_SHOP_SUFFIXES)
            return name, name, self._pick("en", "last_names")
        last = self._pick("en", "last_names")
        if kind == CustomerKind.COMPANY:
            name = f"{last} {rng.choice(_EN_COMPANY_SUFFIXES)} Inc."
        else:
            name = f"{last}'s {rng.choice(_EN_SHOP_SUFFIXES)}"
        return name, name, last

    def _phone(self, place: Place, *, mobile: bool) -> str:
        rng = self.rng
        if place.country == "KR":
            if mobile:
                return f"010-{rng.randint(2000, 9999)}-{rng.randint(0, 9999):04d}"
            return f"{place.phone_area_code}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
        if mobile:
            prefix = rng.choice(("070", "080", "090"))
            return f"{prefix}-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
        # Japanese numbers have ten digits, the area code included.
        digits = 10 - len(place.phone_area_code)
        number = str(rng.randint(10 ** (digits - 1), 10**digits - 1))
        return f"{place.phone_area_code}-{number[:-4]}-{number[-4:]}"

    def _email(self, romanized: str) -> str:
        local = "".join(c for c in romanized.lower() if c.isascii() and (c.isalnum() or c in "._"))
        local = local.strip("._") or "customer"
        # Reserved example domains: demo mail can never reach a real person.
        domain = self.rng.choice(("example.com", "example.net", "example.org"))
        return f"{local}{self.rng.randint(1, 999)}@{domain}"

    def _past_date(self, min_years: float, max_years: float) -> datetime.date:
        days = self.rng.randint(int(min_years * 365), int(max_years * 365))
        return REFERENCE_DAY - datetime.timedelta(days=days)

    def _people(self, card: _Card) -> list[Person]:
        rng = self.rng
        kind = card.customer.kind
        people: list[Person] = []
        if kind == CustomerKind.PERSON:
            if rng.random() < 0.45:
                people.append(self._person(card, Relation.SPOUSE, anniversary=True))
            for _ in range(rng.choices((0, 1, 2), (60, 28, 12))[0]):
                people.append(self._person(card, Relation.CHILD, ages=(3, 30)))
        else:
            people.append(self._person(card, Relation.OWNER, anniversary=rng.random() < 0.3))
            if rng.random() < 0.6:
                people.append(self._person(card, Relation.CONTACT))
            if kind == CustomerKind.COMPANY and rng.random() < 0.4:
                people.append(self._person(card, Relation.STAFF))
        return people

    def _person(
        self, card: _Card, relation: str, *, anniversary: bool = False, ages=(25, 75)
    ) -> Person:
        rng = self.rng
        language = card.language
        gender = rng.choice((Gender.FEMALE, Gender.MALE))
        name, reading, romanized = self._person_name(language, gender)
        hobbies = rng.sample(_HOBBIES[language], k=rng.choice((0, 1, 1, 2)))
        return Person(
            relation=relation,
            name=name,
            name_reading=reading,
            gender=gender,
            birthday=self._past_date(*ages) if rng.random() < 0.8 else None,
            anniversary=self._past_date(1, 40) if anniversary else None,
            mobile=self._phone(card.place, mobile=True) if rng.random() < 0.7 else "",
            email=self._email(romanized) if rng.random() < 0.4 else "",
            hobbies=", ".join(hobbies),
            preferences=(
                rng.choice(_PREFERENCES[self.scenario][language]) if rng.random() < 0.5 else ""
            ),
        )

    def _addresses(self, card: _Card) -> list[Address]:
        rng = self.rng
        person = card.customer.kind == CustomerKind.PERSON
        kinds = [AddressKind.HOME if person else AddressKind.BUSINESS]
        if not person and rng.random() < 0.25:
            kinds.append(rng.choice((AddressKind.DELIVERY, AddressKind.BILLING)))
        elif person and rng.random() < 0.1:
            kinds.append(AddressKind.MAILING)
        return [self._address(card.place, kind, primary=i == 0) for i, kind in enumerate(kinds)]

    def _address(self, place: Place, kind: str, *, primary: bool) -> Address:
        rng = self.rng
        if place.country == "KR":
            faker = self.fakers["ko"]
            postal_code = faker.postcode()
            line1 = f"{faker.road_name()} {faker.building_number().strip()}"
            line2 = f"{rng.randint(1, 20)}층" if rng.random() < 0.4 else ""
        else:
            faker = self.fakers["ja"]
            postal_code = faker.zipcode()
            line1 = f"{faker.town()}{faker.chome()}{faker.ban()}{faker.gou()}"
            line2 = f"{faker.building_name()}{rng.randint(101, 1208)}" if rng.random() < 0.4 else ""
        lat, lon = place.position
        return Address(
            kind=kind,
            postal_code=postal_code,
            region=place.region,
            locality=rng.choice(place.cities),
            line1=line1,
            line2=line2,
            latitude=Decimal(f"{lat + rng.uniform(-0.08, 0.08):.6f}"),
            longitude=Decimal(f"{lon + rng.uniform(-0.08, 0.08):.6f}"),
            is_primary=primary,
        )

    def _consents(self) -> list[Consent]:
        rng = self.rng
        consents = []
        for channel in Channel.values:
            if rng.random() < 0.3:
                continue  # never asked about this channel
            consents.append(
                Consent(
                    channel=channel,
                    granted=rng.random() < 0.75,
                    recorded_on=self._past_date(0, 5),
                    source=rng.choice(_CONSENT_SOURCES),
                )
            )
        return consents

    # --- configurable card fields --------------------------------------------------------

    def _field_values(self, card: _Card) -> dict:
        values = {}
        for definition in self.definitions:
            if not definition.required and self.rng.random() < 0.25:
                continue  # cards in real life are never complete
            value = self._field_value(definition, card)
            if value in (None, "", []):
                continue
            if isinstance(value, str):
                value = value[: _text_limit(definition)].strip()
                if definition.pattern and not re.search(definition.pattern, value):
                    continue
            values[definition.key] = to_json_value(value)
        return values

    def _field_value(self, definition: FieldDefinition, card: _Card):
        special = getattr(self, f"_value_{definition.key}", None)
        if special is not None:
            return special(definition, card)
        rng = self.rng
        kind = definition.field_type
        if kind == FieldType.CHOICE:
            return rng.choice(definition.choices)
        if kind == FieldType.MULTI_CHOICE:
            picked = rng.sample(
                definition.choices, k=rng.randint(1, min(3, len(definition.choices)))
            )
            return sorted(picked, key=definition.choices.index)
        if kind == FieldType.BOOLEAN:
            return rng.random() < 0.2
        if kind in (FieldType.INTEGER, FieldType.DECIMAL):
            low = definition.min_value if definition.min_value is not None else Decimal(0)
            high = definition.max_value if definition.max_value is not None else low + 1000
            if kind == FieldType.INTEGER:
                return rng.randint(int(low), int(high))
            return min(max(Decimal(f"{rng.uniform(float(low), float(high)):.2f}"), low), high)
        if kind == FieldType.DATE:
            return self._past_date(0, 3)
        if kind == FieldType.PHONE:
            return self._phone(card.place, mobile=True)
        if kind == FieldType.EMAIL:
            return self._email(card.customer.code)
        if kind == FieldType.URL:
            return f"https://{card.customer.code.lower()}.example.com/"
        return rng.choice(_NOTES[card.language])

    # Values for the preset fields whose meaning a generic value would get wrong.

    def _value_membership_number(self, definition, card):
        return f"M{self.rng.randint(10_000_000, 99_999_999)}"

    def _value_member_since(self, definition, card):
        return self._past_date(0, 12)

    def _value_gender(self, definition, card):
        return str(card.gender) if card.customer.kind == CustomerKind.PERSON else None

    def _value_birthday(self, definition, card):
        return self._past_date(18, 80) if card.customer.kind == CustomerKind.PERSON else None

    def _value_home_store(self, definition, card):
        return str(card.customer.area)

    def _value_occupation(self, definition, card):
        if card.customer.kind != CustomerKind.PERSON:
            return None
        return self.rng.choice(_OCCUPATIONS[card.language])

    def _value_favourite_brands(self, definition, card):
        return ", ".join(self.rng.sample(_BRANDS, k=self.rng.randint(1, 3)))

    def _value_favourite_colours(self, definition, card):
        return ", ".join(self.rng.sample(_COLOURS[card.language], k=self.rng.randint(1, 2)))

    def _value_annual_review_date(self, definition, card):
        return REFERENCE_DAY + datetime.timedelta(days=self.rng.randint(0, 365))

    def _value_trade_name(self, definition, card):
        return card.customer.name

    def _value_legal_representative(self, definition, card):
        owner = card.person(Relation.OWNER, Relation.REPRESENTATIVE)
        return owner.name if owner else None

    def _value_representative_birthday(self, definition, card):
        owner = card.person(Relation.OWNER, Relation.REPRESENTATIVE)
        return owner.birthday if owner else None

    def _value_contact_person(self, definition, card):
        contact = card.person(Relation.CONTACT, Relation.OWNER)
        return contact.name if contact else None

    def _value_licence_number(self, definition, card):
        return f"{self.rng.randint(1, 47):02d}-{self.rng.randint(100_000, 999_999)}"

    def _value_licence_issue_date(self, definition, card):
        return self._past_date(1, 15)

    def _value_licence_valid_until(self, definition, card):
        return REFERENCE_DAY + datetime.timedelta(days=self.rng.randint(30, 6 * 365))

    def _value_issuing_office(self, definition, card):
        city = self.rng.choice(card.place.cities)
        return f"{city}청" if card.place.country == "KR" else f"{city}税務署"

    def _staff_name(self, definition, card):
        # The business's own staff, so named like people of the country, whoever the customer.
        language = "ko" if card.place.country == "KR" else "ja"
        return self._person_name(language, self.rng.choice((Gender.FEMALE, Gender.MALE)))[0]

    _value_phone_order_taker = _staff_name
    _value_delivery_person = _staff_name
    _value_custodian = _staff_name

    def _value_delivery_route(self, definition, card):
        return card.customer.area.code

    def _value_route_segment(self, definition, card):
        return f"{card.customer.area.code}-{self.rng.choice('ABCD')}"

    def _value_order_batch(self, definition, card):
        return self.rng.choice(("Mon/Thu", "Tue/Fri", "Wed/Sat"))

    def _value_visit_batch(self, definition, card):
        return f"W{self.rng.randint(1, 4)}"

    def _value_order_frequency(self, definition, card):
        return self.rng.choice((1, 2, 4, 4, 8, 8, 12))

    def _value_registered_capital(self, definition, card):
        if card.customer.kind != CustomerKind.COMPANY:
            return None
        unit = 1_000_000 if card.place.country == "JP" else 10_000_000
        return Decimal(self.rng.choice((3, 5, 10, 30, 50, 100)) * unit)

    def _value_mailing_address(self, definition, card):
        address = card.addresses[0]
        return " ".join(
            filter(None, [address.postal_code, address.region, address.locality, address.line1])
        )

    def _value_alteration_notes(self, definition, card):
        return self.rng.choice(_ALTERATIONS[card.language])


def _text_limit(definition: FieldDefinition) -> int:
    limit = (
        LONG_TEXT_MAX_LENGTH if definition.field_type == FieldType.LONG_TEXT else TEXT_MAX_LENGTH
    )
    return min(definition.max_length or limit, limit)


def _tag(name: str) -> Tag:
    tag = Tag.objects.filter(name=name).first()
    if tag is None:
        tag = Tag(name=name)
        tag.full_clean()
        tag.save()
    return tag


def _customer_after(card: _Card) -> dict:
    """What ``customer_snapshot`` records for a new card, without a query per card."""
    customer = card.customer
    data = _snapshot(customer, CUSTOMER_FIELDS)
    data["owner"] = customer.owner.username if customer.owner else None
    data["area"] = customer.area.code if customer.area else None
    data["tags"] = sorted(t.name for t in card.tags)
    data["assigned_users"] = []
    for key, value in customer.field_values.items():
        data[f"fields.{key}"] = value
    return data


_NOTES = {
    "ja": ("駅前の小型店。夕方の来客が多い。", "週末は家族連れが中心。", "法人の贈答需要あり。"),
    "ko": (
        "역 앞 소형 매장. 저녁 손님이 많음.",
        "주말에는 가족 단위 손님 위주.",
        "법인 선물 수요 있음.",
    ),
    "en": (
        "Small shop by the station, busy in the evening.",
        "Families at weekends.",
        "Corporate gifts.",
    ),
}
_ALTERATIONS = {
    "ja": ("袖丈を2cm詰める", "裾上げはダブル仕上げ", "ウエストを1cm出す"),
    "ko": ("소매 기장 2cm 줄임", "바지 밑단 더블 처리", "허리 1cm 늘림"),
    "en": ("shorten sleeves by 2 cm", "cuffed trouser hems", "let out the waist by 1 cm"),
}
_OCCUPATIONS = {
    "ja": ("会社員", "公務員", "医師", "教員", "自営業", "デザイナー", "エンジニア", "主婦"),
    "ko": ("회사원", "공무원", "의사", "교사", "자영업", "디자이너", "엔지니어", "주부"),
    "en": ("office worker", "civil servant", "doctor", "teacher", "designer", "engineer"),
}
_COLOURS = {
    "ja": ("紺", "グレー", "ベージュ", "黒", "白", "ボルドー", "深緑"),
    "ko": ("네이비", "회색", "베이지", "검정", "흰색", "버건디", "진녹색"),
    "en": ("navy", "grey", "beige", "black", "white", "burgundy", "forest green"),
}
# Invented labels, so the demo advertises nobody.
_BRANDS = ("Aozora", "Hanbit", "Kumo Works", "Maple & Co", "Nami", "Saeroun", "Tsubaki", "Yeoreum")
