"""Rules for text people type."""

from __future__ import annotations

import unicodedata

LINE_CONTROLS = "\n\r\t"
LINE_SEPARATORS = "\u2028\u2029"
"""Unicode's line and paragraph separators (Zl, Zp): line breaks too, where one line is asked for."""


def has_control_characters(value: str, multiline: bool = False) -> bool:
    """Whether ``value`` holds a control character (NUL, ESC, DEL...) or a noncharacter (U+FFFE, U+FFFF,
    U+FDD0-FDEF, the last two of every plane: never for interchange); line breaks (Unicode's separators
    too) and tabs only count when the text is not ``multiline``. PostgreSQL can neither store nor compare
    a NUL."""
    if value.isprintable():  # C speed, and exact: a control character (Cc) is never printable
        return False
    allowed = LINE_CONTROLS + LINE_SEPARATORS if multiline else ""
    return any(
        ch not in allowed
        and (unicodedata.category(ch) == "Cc" or ch in LINE_SEPARATORS or _is_noncharacter(ch))
        for ch in value
    )


def unix_line_breaks(text: str) -> str:
    """``text`` with every line break as ``\n``: a browser sends a textarea's as ``\r\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def username_folded(text: str) -> str:
    """``text`` with its ASCII letters lowercased, every other character kept: how a username (ASCII by
    rule) is compared whatever its case. ``str.lower()`` also turns the Kelvin sign (U+212A) into ``k``
    and ``İ`` into ``i̇``: ``/%E2%84%AAate``, a name no account can have, opened kate's page."""
    if text.isascii():
        return text.lower()
    return "".join(character.lower() if character.isascii() else character for character in text)


def _is_noncharacter(character: str) -> bool:
    code = ord(character)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Embeddings, overrides and isolates: they can make text read backwards (a name, a reason in a log)."""


def has_bidi_controls(value: str) -> bool:
    """Whether ``value`` holds a bidirectional embedding, override or isolate (U+202A-E, U+2066-9)."""
    if value.isprintable():  # the controls are format characters (Cf), never printable
        return False
    return any(ch in BIDI_CONTROLS for ch in value)


def without_bidi_controls(value: str) -> str:
    """``value`` with its bidirectional embeddings, overrides and isolates removed (for text stored before
    they were refused, or taken from elsewhere, such as an identity provider's name for a person)."""
    return "".join(ch for ch in value if ch not in BIDI_CONTROLS)


BIDI_PROBLEM = "Remove the bidirectional controls (U+202A-E, U+2066-9): they make text read backwards."


BLANK_LETTERS = frozenset("\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
"""Characters that are letters or symbols to Unicode but draw nothing: the Hangul fillers, the Khmer
inherent vowels, the Braille blank. Names made of them look empty (a favourite of blank-name tricks)."""
UNSEEN_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
"""Format characters (zero-width, BOM) and combining marks: alone, they show nothing a person can read."""
STACKED_MARKS_MAX = 8
"""The most combining marks on one letter: more than any script writes (Vietnamese uses two, Tibetan
and Hebrew with cantillation a few more), and dozens spill over the lines around them ("Zalgo" text)."""
STACKED_MARKS_PROBLEM = f"Remove the stacked accents: at most {STACKED_MARKS_MAX} marks on one letter."


def is_visible(value: str) -> bool:
    """Whether ``value`` shows anything: spaces, format characters (``Cf``: zero-width, BOM), combining
    marks without a letter and :data:`BLANK_LETTERS` alone do not."""
    return any(_shows_something(ch) for ch in value)


def _shows_something(character: str) -> bool:
    return (
        not character.isspace()
        and character not in BLANK_LETTERS
        and unicodedata.category(character) not in UNSEEN_CATEGORIES
    )


EMOJI_TAGS = range(0xE0020, 0xE0080)
"""The tag characters (``Cf``) that end a subdivision flag's emoji (England's, Scotland's): part of it."""


def trimmed_invisibles(value: str) -> str:
    """``value`` without what shows nothing at either end (spaces, format characters, :data:`BLANK_LETTERS`,
    combining marks with no letter): "Spam.\u200b" is "Spam.". The marks and emoji tags that follow the
    last character shown are kept: they are part of it (``e`` with its accent, a flag)."""
    start = next((index for index, ch in enumerate(value) if _shows_something(ch)), None)
    if start is None:
        return ""
    end = next(index for index in range(len(value), start, -1) if _shows_something(value[index - 1]))
    while end < len(value) and _belongs_to_previous(value[end]):
        end += 1
    return value[start:end]


def _belongs_to_previous(character: str) -> bool:
    return unicodedata.category(character) in ("Mn", "Me") or ord(character) in EMOJI_TAGS


SENTENCE_ENDS = frozenset(".!?…。！？｡‼⁇⁈⁉؟")
"""Punctuation that ends a sentence, in the scripts whose stops are not ASCII too (the ideographic full
stop, the full-width marks, the Arabic question mark)."""


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends in sentence punctuation, perhaps followed by closing quotes or brackets
    (``He said "spam."``, ``(see the report.)``, ``« spam ? »``), what shows nothing after it aside: no
    full stop to add. A quote mark at the end closes, whichever way it faces (German closes with «)."""
    end = len(text)
    while end and (not _shows_something(text[end - 1]) or _closes(text[end - 1])):
        end -= 1
    return end > 0 and text[end - 1] in SENTENCE_ENDS


def _closes(character: str) -> bool:
    return character in "\"'" or unicodedata.category(character) in ("Pe", "Pf", "Pi")


def has_stacked_marks(value: str) -> bool:
    """Whether more than :data:`STACKED_MARKS_MAX` combining marks follow one another in ``value``."""
    if value.isascii():
        return False
    run = 0
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cf":
            continue  # a zero-width joiner between two marks does not part them: they stack all the same
        run = run + 1 if category in ("Mn", "Me") else 0
        if run > STACKED_MARKS_MAX:
            return True
    return False


def is_valid_unicode(value: str) -> bool:
    """Whether ``value`` can be written as UTF-8: a lone surrogate (JSON ``"\\ud800"``) cannot, so no
    database can store it and no page can show it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(value: str) -> str:
    """``value`` safe to echo in a message: a lone surrogate becomes ``\\ud800``."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def escaped_invisibles(value: str) -> str:
    """``value`` with every character that shows nothing or changes how the rest reads (a control, a
    bidirectional override, a zero-width or other format character, a space other than U+0020, a lone
    surrogate) written as its escape (``\\u202e``), so text echoed to staff reads as typed."""
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in value)


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def tracking_text(value: str, max_length: int) -> str:
    """Tracking data (a UTM parameter, a header) as stored: trimmed and cut to ``max_length``; empty when it
    holds control characters, bidirectional controls or lone surrogates (it is shown to the page's owner),
    because tracking data is ignored when bad, never refused."""
    value = value.strip()[:max_length]
    if has_control_characters(value) or has_bidi_controls(value) or not is_valid_unicode(value):
        return ""
    return value
