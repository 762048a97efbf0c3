from __future__ import annotations

import re

import pytest

from coachregister.lib import tokens


@pytest.mark.article("3.1")
def test_pseudonyms_are_random_and_readable() -> None:
    drawn = {tokens.new_pseudonym("C") for _ in range(500)}
    assert len(drawn) == 500
    assert all(re.fullmatch(r"C-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", p) for p in drawn)


@pytest.mark.article("Werkwijze")
def test_codes_survive_typing() -> None:
    code = "7KQ2-M9XA"
    for typed in ("7kq2-m9xa", " 7KQ2 M9XA ", "7kq2m9xa"):
        assert tokens.normalise_code(typed) == code
    assert tokens.normalise_code("IL0O-UUUU") == "1100-VVVV"
    assert tokens.code_hash("7kq2 m9xa", "k") == tokens.code_hash(code, "k")


@pytest.mark.article("6")
def test_hashes_depend_on_the_key_and_hide_the_value() -> None:
    code = tokens.new_code()
    assert tokens.code_hash(code, "a") != tokens.code_hash(code, "b")
    token = tokens.new_token()
    assert len(token) >= 43 and token not in tokens.token_hash(token)
