"""Names in any script are accepted; anything else gets a reason (art. 3.1 intake)."""

from __future__ import annotations

import pytest

from coachregister.lib.names import NameError_, clean_person_name

pytestmark = pytest.mark.article("3.1")


@pytest.mark.parametrize("name", [
    "van der Berg", "O'Neill", "O\u2019Neill", "Ødegård", "Nguyễn", "Jean-Luc", "José María",
    "Đặng", "Zoë", "Müller-Lüdenscheidt", "Ó Súilleabháin", "Παπαδόπουλος", "Иванова",
    "محمد", "王小明", "J.", "de la Cruz", "Åsa", "Çelik", "Þórunn",
])
def test_real_names_are_accepted(name: str) -> None:
    assert clean_person_name(name) == name


@pytest.mark.parametrize(("value", "code"), [
    ("", "empty"), ("   ", "empty"), ("Anne2", "characters"), ("anne@example", "characters"),
    ("<script>", "characters"), ("Anne 😀", "characters"), ("--", "no_letter"),
    ("'.", "no_letter"), ("An\x00ne", "characters"), ("A\u202eB", "characters"),
    ("x" * 101, "too_long"),
])
def test_other_input_is_refused_with_a_reason(value: str, code: str) -> None:
    with pytest.raises(NameError_) as info:
        clean_person_name(value)
    assert info.value.code == code


def test_whitespace_is_folded_and_text_normalised() -> None:
    assert clean_person_name("  van   der\tBerg ") == "van der Berg"
    assert clean_person_name("Zoe\u0308") == "Zoë"  # combining diaeresis -> one character
