"""Whether text shows anything: a letter, digit, punctuation mark or symbol that is drawn.

`str.isprintable` is not that test: it accepts Hangul fillers (U+3164), variation selectors,
lone combining marks and the blank Braille pattern, all of which draw nothing. A character is
visible here when its general category is a letter, number, punctuation or symbol and it is not
one of Unicode's default-ignorable code points (DerivedCoreProperties.txt, which Python's
unicodedata does not expose) nor U+2800 BRAILLE PATTERN BLANK. Space, controls, format
characters, separators, marks on their own and unassigned code points are not visible.
"""

from __future__ import annotations

import unicodedata

# Default_Ignorable_Code_Point (Unicode 15.1), and U+2800, which is a symbol that draws nothing.
_DRAWN_AS_NOTHING = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_DRAWN_CATEGORIES = frozenset("LNPS")


def is_visible(character: str) -> bool:
    if unicodedata.category(character)[0] not in _DRAWN_CATEGORIES:
        return False
    code = ord(character)
    return not any(low <= code <= high for low, high in _DRAWN_AS_NOTHING)


def shows_something(text: str) -> bool:
    """Whether any character of `text` is visible (ASCII text: any of ! to ~)."""
    if text.isascii():
        return any("!" <= c <= "~" for c in text)
    return any(is_visible(c) for c in text)
