"""Text normalisation so that names sort and search alike in Japanese, Korean and Latin script."""

import re
import unicodedata

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}
_SPACES = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D+")


def search_key(text: str | None) -> str:
    """Fold text for matching: width (NFKC), case, katakana to hiragana, no spaces.

    "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ" and "やまだたろう" all fold to "やまだたろう", so a
    search typed in any of those forms finds the same card.
    """
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_KATAKANA_TO_HIRAGANA)
    return _SPACES.sub("", folded)


def digits_only(text: str | None) -> str:
    """Phone numbers are matched on their digits: "03-1234-5678" and "0312345678" agree."""
    if not text:
        return ""
    return _NON_DIGITS.sub("", unicodedata.normalize("NFKC", text))
