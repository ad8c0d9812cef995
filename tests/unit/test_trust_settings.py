"""The reader's [trust] table and the policy it asks for."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror.errors import ConfigError
from mirror.trust.policy import AnyOf, AuthorTrusted, EndorsedBy, reader_policy
from mirror.workspace import TrustSettings, trust_settings


def test_reader_policy_is_the_author_unless_endorsers_are_asked_for() -> None:
    """K = 0 is the author alone; K > 0 adds K knows-author endorsers as an alternative, never a requirement."""
    assert reader_policy(0) == AuthorTrusted()
    assert reader_policy(2) == AnyOf(AuthorTrusted(), EndorsedBy(2, "knows-author"))


@pytest.mark.parametrize(("text", "expected"), [
    ("", TrustSettings(0)),
    ("[workspace]\nkeys = 'keys'\n", TrustSettings(0)),
    ("[trust]\nrequire_endorsers = 3\n", TrustSettings(3)),
])
def test_trust_table_is_read(text: str, expected: TrustSettings, tmp_path: Path) -> None:
    """Absent table or field: 0; a number in range is taken."""
    config = tmp_path / "mirror.toml"
    config.write_text(text)
    assert trust_settings(config) == expected
    assert trust_settings(None) == TrustSettings(0)


@pytest.mark.parametrize(("text", "words"), [
    ("[trust]\nrequire_endorsers = -1\n", "trust.require_endorsers: must be a whole number from 0 to 100"),
    ("[trust]\nrequire_endorsers = 101\n", "must be a whole number"),
    ("[trust]\nrequire_endorsers = true\n", "must be a whole number"),
    ("[trust]\nrequire_endorsers = '2'\n", "must be a whole number"),
    ("[trust]\nrequire_endorser = 2\n", "unknown field trust.require_endorser"),
    ("trust = 2\n", "[trust] must be a table"),
], ids=["negative", "too many", "bool", "string", "misspelt", "not a table"])
def test_a_bad_trust_table_is_a_usage_error(text: str, words: str, tmp_path: Path) -> None:
    """Every mistake is named; none is read as 0 (which would silently trust less, or more, than asked)."""
    config = tmp_path / "mirror.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        trust_settings(config)
