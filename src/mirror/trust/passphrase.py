"""Is a new key's passphrase strong enough? zxcvbn's estimate of the guesses an attacker needs.

Example::

    passphrase_problem(b"Almaty2022", ["alice"])     # "it could be guessed in about 10^10 tries: ..."
    passphrase_problem(b"tram fog lantern quietly", ["alice"])   # None: strong enough

A seized laptop gives an attacker the encrypted secret key and all the time in
the world; scrypt makes each guess slow, but a passphrase a person can guess
falls anyway. The rule: zxcvbn (Dropbox's estimator: dictionaries, names,
keyboard patterns, dates, l33t) must estimate at least 10^12 guesses. Words
zxcvbn does not know (Russian, Kazakh) count as random letters, so a phrase of
three or four words in any language passes. `mirror keys new --weak-passphrase`
accepts a weaker one when the author insists.

zxcvbn refuses input longer than 72 characters (its matching grows fast with
length), so a long passphrase is judged in pieces of 72: the estimates of the
pieces add up (as the guesses of independent parts multiply), a piece already
seen adds nothing, and no more than the first 16 pieces are read. Any length
works; a long repetition stays weak.
"""

from __future__ import annotations

MIN_GUESSES_LOG10 = 12
_PIECE = 72  # zxcvbn's own limit on the length of its input
_MOST_PIECES = 16  # bounds the time spent on a pasted text: 16 x 72 characters are checked at most


# zxcvbn's advice, each sentence as it writes it: listed here so that the catalogs carry them (i18n translates
# each sentence of the advice on its own; zxcvbn has no Russian or Kazakh of its own).
ADVICE_NOTE = (
    "Use a few words, avoid common phrases.", "No need for symbols, digits, or uppercase letters.",
    "Add another word or two. Uncommon words are better.", "Straight rows of keys are easy to guess.",
    "Short keyboard patterns are easy to guess.", "Use a longer keyboard pattern with more turns.",
    'Repeats like "aaa" are easy to guess.', 'Repeats like "abcabcabc" are only slightly harder to guess than "abc".',
    "Avoid repeated words and characters.", 'Sequences like "abc" or "6543" are easy to guess.', "Avoid sequences.",
    "Recent years are easy to guess.", "Avoid recent years.", "Avoid years that are associated with you.",
    "Dates are often easy to guess.", "Avoid dates and years that are associated with you.",
    "This is a top-10 common password.", "This is a top-100 common password.", "This is a very common password.",
    "This is similar to a commonly used password.", "A word by itself is easy to guess.",
    "Names and surnames by themselves are easy to guess.", "Common names and surnames are easy to guess.",
    "Capitalization doesn't help very much.", "All-uppercase is almost as easy to guess as all-lowercase.",
    "Reversed words aren't much harder to guess.",
    "Predictable substitutions like '@' instead of 'a' don't help very much.",
)


def passphrase_problem(passphrase: bytes, context: list[str]) -> str | None:
    """Why `passphrase` is too weak for a secret key, or None when it is strong enough.

    Args:
        passphrase: the passphrase as typed.
        context: words an attacker would try first (the key's name).
    """
    from zxcvbn import zxcvbn

    text = passphrase.decode("utf-8", "replace")
    pieces = [text[start:start + _PIECE] for start in range(0, min(len(text), _PIECE * _MOST_PIECES), _PIECE)]
    first = zxcvbn(text[:_PIECE], user_inputs=[*context, "mirror"], max_length=_PIECE)
    exponent = float(first["guesses_log10"])
    for number, piece in enumerate(pieces[1:], 1):
        if exponent >= MIN_GUESSES_LOG10:
            break
        # a piece that is already in the text before it adds nothing: a repetition stays as weak as its unit,
        # also when the unit's length does not divide the pieces' (helper-161: "12345" * 29 was strong)
        if text.find(piece) >= number * _PIECE:  # first found where it is: not a repetition of what came before
            exponent += float(zxcvbn(piece, user_inputs=[*context, "mirror"], max_length=_PIECE)["guesses_log10"])
    if exponent >= MIN_GUESSES_LOG10:
        return None
    feedback = first["feedback"]
    from mirror.i18n import translate

    parts = [feedback.get("warning") or "", *feedback.get("suggestions", [])]
    advice = " ".join(translate(part) for part in parts if part)  # each sentence: the catalog holds them one by one
    return (f"it could be guessed in about 10^{int(exponent)} tries (at least 10^{MIN_GUESSES_LOG10} are needed)"
            + (f": {advice}" if advice else ""))
