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
"""

from __future__ import annotations

MIN_GUESSES_LOG10 = 12
_CHECKED_LENGTH = 100  # zxcvbn's time grows fast with length; beyond this, a passphrase is long enough


def passphrase_problem(passphrase: bytes, context: list[str]) -> str | None:
    """Why `passphrase` is too weak for a secret key, or None when it is strong enough.

    Args:
        passphrase: the passphrase as typed.
        context: words an attacker would try first (the key's name).
    """
    from zxcvbn import zxcvbn

    text = passphrase.decode("utf-8", "replace")
    if len(text) >= _CHECKED_LENGTH:
        return None
    result = zxcvbn(text, user_inputs=[*context, "mirror"])
    exponent = float(result["guesses_log10"])
    if exponent >= MIN_GUESSES_LOG10:
        return None
    feedback = result["feedback"]
    advice = " ".join(part for part in [feedback.get("warning") or "", *feedback.get("suggestions", [])] if part)
    return (f"it could be guessed in about 10^{int(exponent)} tries (at least 10^{MIN_GUESSES_LOG10} are needed)"
            + (f": {advice}" if advice else ""))
