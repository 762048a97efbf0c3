from __future__ import annotations

import pytest

from coachregister.lib.crypto import MasterKeyError, new_master_key, parse_master_keys

pytestmark = pytest.mark.article("6")


def test_new_key_round_trips_and_first_is_current() -> None:
    first, second = new_master_key("k2"), new_master_key("k1")
    keys = parse_master_keys(f"{first},{second}")
    assert [k.kid for k in keys] == ["k2", "k1"]
    assert all(len(k.key) == 32 for k in keys)
    assert keys[0].key != keys[1].key


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "no master key"),
        ("nokid", "kid:base64key"),
        ("k1:!!!notbase64", "base64"),
        ("k1:c2hvcnQ", "32 bytes"),
    ],
)
def test_malformed_keys_are_refused_without_echoing_them(value: str, message: str) -> None:
    with pytest.raises(MasterKeyError, match=message) as info:
        parse_master_keys(value)
    if ":" in value:
        assert value.split(":", 1)[1] not in str(info.value)


def test_duplicate_key_ids_are_refused() -> None:
    key = new_master_key("same")
    with pytest.raises(MasterKeyError, match="twice"):
        parse_master_keys(f"{key},{new_master_key('same')}")


def test_repr_never_shows_key_material() -> None:
    key = parse_master_keys(new_master_key("k1"))[0]
    assert repr(key) == "MasterKey(kid='k1')"
