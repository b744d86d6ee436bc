"""The bundled texts keep no personal contact: phone numbers and e-mail addresses are masked."""

import re
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
# French numbers written with or without separators, and international forms (+33 6 12 34 56 78, 0033...)
PHONE = re.compile(r"(?<![\w.,])(?:(?:\+|00)\d{2,3}[\s.-]?(?:\(0\))?[\s.-]?[1-9](?:[\s.-]?\d{2}){4}"
                   r"|0[1-9](?:[\s.-]?\d{2}){4})(?!\w)")


@pytest.mark.parametrize("text, found", [
    ("appelez le 06 12 34 56 78 svp", True), ("au 0612345678", True), ("+33 6 12 34 56 78", True),
    ("0033 1.23.45.67.89", True), ("écrivez à jean.dupont@orange.fr", True),
    ("0X XX XX XX XX", False), ("[e-mail]", False), ("le 3244", False), ("en 2024, 12 34 56", False),
])
def test_the_patterns_find_contacts_and_leave_masks_and_short_numbers(text, found):
    assert bool(EMAIL.search(text) or PHONE.search(text)) is found


@pytest.mark.parametrize("path", sorted(p.name for p in SEEDS.iterdir() if p.suffix in (".csv", ".txt", ".md")))
def test_no_phone_number_or_e_mail_address_in_the_bundled_texts(path):
    text = (SEEDS / path).read_text(encoding="utf-8", errors="replace")
    found = [m.group(0) for m in EMAIL.finditer(text)] + [m.group(0) for m in PHONE.finditer(text)]
    assert not found, f"seeds/{path} holds contacts to mask (as 0X XX XX XX XX or [e-mail]): {found[:5]}"
