"""Likely duplicate cards: found by folded name, reading, phone and address, within scope."""

import pytest

from tokui.core.testing.factories import AddressFactory, CustomerFactory, PersonFactory
from tokui.customers.models import Address, Customer, address_match_key
from tokui.customers.selectors import DUPLICATE_MAX_GROUP, duplicate_pairs
from tokui.users.choices import Role

ADMIN = Role.ADMINISTRATOR
MANAGER = Role.MANAGER
AM = Role.ACCOUNT_MANAGER


def tokyo_card(users, areas, **kwargs):
    kwargs.setdefault("phone", "")
    return CustomerFactory(owner=users[AM], area=areas["TKY"], **kwargs)


def pairs_as_codes(user):
    return {(p.first.code, p.second.code): (p.reasons, p.score) for p in duplicate_pairs(user=user)}


def test_same_name_in_another_width_and_case_is_a_pair(users, areas):
    tokyo_card(users, areas, code="A1", name="ﾔﾏﾀﾞ Shop")
    tokyo_card(users, areas, code="A2", name="ヤマダ　SHOP")
    tokyo_card(users, areas, code="A3", name="鈴木商店")

    assert pairs_as_codes(users[ADMIN]) == {("A1", "A2"): (("name",), 3)}


def test_same_reading_with_different_kanji_is_a_pair(users, areas):
    tokyo_card(users, areas, code="B1", name="山田商店", name_reading="ヤマダショウテン")
    tokyo_card(users, areas, code="B2", name="やまだ商店", name_reading="やまだしょうてん")

    assert pairs_as_codes(users[ADMIN]) == {("B1", "B2"): (("reading",), 2)}


def test_same_phone_on_the_card_and_on_a_person_of_another_card_is_a_pair(users, areas):
    first = tokyo_card(users, areas, code="C1", name="一号店", phone="03-1111-2222")
    second = tokyo_card(users, areas, code="C2", name="二号店")
    PersonFactory(customer=second, name="田中", mobile="０３（１１１１）２２２２")
    tokyo_card(users, areas, code="C3", name="三号店", phone="03-1111-2223")

    assert pairs_as_codes(users[ADMIN]) == {(first.code, second.code): (("phone",), 3)}


def test_short_numbers_are_not_evidence(users, areas):
    tokyo_card(users, areas, code="D1", name="一号店", phone="110")
    tokyo_card(users, areas, code="D2", name="二号店", phone="1-1-0")

    assert pairs_as_codes(users[ADMIN]) == {}


def test_same_postal_code_and_first_line_is_a_pair(users, areas):
    first = tokyo_card(users, areas, code="E1", name="一号店")
    second = tokyo_card(users, areas, code="E2", name="二号店")
    third = tokyo_card(users, areas, code="E3", name="三号店")
    AddressFactory(customer=first, postal_code="100-0001", line1="千代田1-1")
    AddressFactory(customer=second, postal_code="１０００００１", line1="千代田 １－１")
    AddressFactory(customer=third, postal_code="100-0001", line1="千代田1-2")

    assert pairs_as_codes(users[ADMIN]) == {("E1", "E2"): (("address",), 2)}


def test_several_reasons_add_up_and_the_likeliest_pair_comes_first(users, areas):
    tokyo_card(users, areas, code="F1", name="丸井商事", phone="06-1234-5678")
    tokyo_card(users, areas, code="F2", name="丸井商事", phone="06 1234 5678")
    tokyo_card(users, areas, code="F3", name="丸山商事", phone="0612345678")

    pairs = duplicate_pairs(user=users[ADMIN])

    assert [(p.first.code, p.second.code, p.reasons, p.score) for p in pairs] == [
        ("F1", "F2", ("name", "phone"), 6),
        ("F1", "F3", ("phone",), 3),
        ("F2", "F3", ("phone",), 3),
    ]


def test_unrelated_cards_give_no_pairs(users, areas):
    tokyo_card(users, areas, code="G1", name="一号店", phone="03-1000-0001")
    tokyo_card(users, areas, code="G2", name="二号店", phone="03-1000-0002")

    assert duplicate_pairs(user=users[ADMIN]) == []


def test_a_name_shared_by_a_whole_chain_is_not_suggested(users, areas):
    for n in range(DUPLICATE_MAX_GROUP + 1):
        tokyo_card(users, areas, code=f"H{n:02d}", name="セブン")

    assert duplicate_pairs(user=users[ADMIN]) == []


def test_each_user_sees_only_pairs_of_cards_they_may_change(users, areas, other_account_manager):
    mine = tokyo_card(users, areas, code="TKY-1", name="山田商店")
    also_mine = tokyo_card(users, areas, code="TKY-2", name="山田商店")
    colleague = CustomerFactory(code="TKY-3", name="山田商店", area=areas["TKY"], phone="")
    osaka = CustomerFactory(
        code="OSK-1", name="山田商店", area=areas["OSK"], owner=other_account_manager, phone=""
    )

    assert set(pairs_as_codes(users[AM])) == {(mine.code, also_mine.code)}
    assert set(pairs_as_codes(users[MANAGER])) == {
        ("TKY-1", "TKY-2"),
        ("TKY-1", "TKY-3"),
        ("TKY-2", "TKY-3"),
    }
    assert len(pairs_as_codes(users[ADMIN])) == 6
    assert osaka.code not in {code for pair in pairs_as_codes(users[MANAGER]) for code in pair}
    assert colleague.pk
    for role in (Role.SERVICE_AGENT, Role.ANALYST, Role.AUDITOR):
        assert duplicate_pairs(user=users[role]) == []


def test_keys_follow_every_save(users, areas):
    card = tokyo_card(users, areas, code="K1", name="ﾏﾙｲ")
    address = AddressFactory(customer=card, postal_code="530-0001", line1="梅田１－１")

    assert Customer.objects.get(pk=card.pk).name_key == "まるい"
    assert Address.objects.get(pk=address.pk).match_key == "5300001 梅田1-1"
    assert address_match_key("", "梅田1-1") == ""


@pytest.mark.parametrize("line1", ["千代田１‐１", "千代田1−1", "千代田 1-1"])
def test_address_dashes_and_spaces_fold_alike(line1):
    assert address_match_key("100-0001", line1) == "1000001 千代田1-1"
