"""Accounts' front matter and language, as Markdown tools write them and as people save them."""

from __future__ import annotations

import pytest

from mirror.bundle.accounts import read_account
from mirror.bundle.page import strip_front_matter


@pytest.mark.parametrize("text", [
    pytest.param("---\ntitle: Night\ndate: 2022-01-05\n---\nBody\n", id="as written"),
    pytest.param("--- \ntitle: Night\ndate: 2022-01-05\n---  \nBody\n", id="spaces after the dashes"),
    pytest.param("---\rtitle: Night\rdate: 2022-01-05\r---\rBody\r", id="old Mac line ends"),
    pytest.param("---\r\ntitle: Night\r\ndate: 2022-01-05\r\n---\r\nBody\r\n", id="windows line ends"),
    pytest.param("\ufeff---\ntitle: Night\ndate: 2022-01-05\n...\nBody\n", id="closed by dots, with a BOM"),
    pytest.param('---\ntitle: "Night"\ndate: \'2022-01-05\'\n---\nBody\n', id="quoted values"),
])
def test_front_matter_is_read_as_markdown_tools_write_it(text: str) -> None:
    """Fields are read, and the page shows only what follows the block, however the block was saved."""
    account = read_account(text.encode(), "accounts/a.md")
    assert account.fields == {"title": "Night", "date": "2022-01-05"}
    assert strip_front_matter(text).strip() == "Body"


def test_a_file_that_ends_on_its_closing_line_has_its_fields() -> None:
    assert read_account(b"---\ntitle: Night\n---", "accounts/a.md").fields == {"title": "Night"}
    assert strip_front_matter("---\ntitle: Night\n---") == ""


def test_quotes_inside_a_value_stay() -> None:
    account = read_account(b'---\ntitle: "Republic Square: \\"Sit in\\""\nplace: It\'s here\n---\n', "a.md")
    assert account.fields == {"title": 'Republic Square: "Sit in"', "place": "It's here"}


def test_a_rule_in_the_text_is_not_front_matter() -> None:
    assert read_account(b"Text\n---\ntitle: no\n---\n", "accounts/a.md").fields == {}


@pytest.mark.parametrize(("text", "language"), [
    pytest.param("An account of the Қаңтар events: people gathered in the square at noon.", "en",
                 id="english naming a kazakh word"),
    pytest.param("Люди собрались на площади в полдень, интернет отключили. " * 5 + "Қаңтар.", "ru",
                 id="russian naming a kazakh word"),
    pytest.param("Қаңтар оқиғалары кезінде біз үйде отырдық. Әкем көшеге шықты.", "kk", id="kazakh"),
    pytest.param("---\nlanguage: Russian\nplace: Алматы\n---\nКороткий текст.", "ru",
                 id="front matter keys do not count"),
])
def test_the_language_follows_the_text_not_one_word(text: str, language: str) -> None:
    assert read_account(text.encode(), "accounts/a.md").language == language


@pytest.mark.parametrize(("text", "member", "language"), [
    ("---\nlanguage: kz\n---\nБіз алаңда болдық.\n", "accounts/a.md", "kk"),
    ("Біз алаңда болдық.\n", "accounts/a.kz.md", "kk"),
    ("---\nlanguage: kz-Cyrl\n---\nБіз алаңда болдық.\n", "accounts/a.md", "kk-Cyrl"),
])
def test_kazakhstans_country_code_is_read_as_kazakh(text: str, member: str, language: str) -> None:
    """"kz" is the country's code, not a language's: the page had lang="kz" and show listed "kk, kz" (helper-159)."""
    assert read_account(text.encode(), member).language == language


def test_lines_of_prose_between_two_rules_are_text_not_fields() -> None:
    """An account that began with a rule, some lines and another rule lost those lines from the page (helper-159):
    a block with a line that is no field is no front matter."""
    from mirror.bundle.accounts import front_matter

    prose = "---\nВечером мы пошли на площадь.\nПотом все разошлись.\n---\nДальше.\n"
    assert front_matter(prose) == (None, prose)
    assert strip_front_matter(prose) == prose
    fields = "---\ntitle: Площадь\ntags:\n  - a\n# a comment\n---\nТекст.\n"
    assert front_matter(fields)[1] == "Текст.\n"


def test_yaml_comments_and_block_scalars_are_read_as_yaml_reads_them() -> None:
    """`date: 2022-01-05 # check` showed the comment on the page, and `title: >-` made the title ">-"
    (helper-159)."""
    text = "---\ntitle: >-\n  Вечер\n  на площади\ndate: 2022-01-05 # check\nplace: 'Алматы # центр'\n---\nТекст.\n"
    account = read_account(text.encode(), "accounts/a.md")
    assert account.fields == {"title": "Вечер на площади", "date": "2022-01-05", "place": "Алматы # центр"}
    quoted = "---\ntitle: \"Митинг # 2\" # проверить\nplace: 'Қаңтар' # comment\n---\nТекст.\n"  # helper-163
    assert read_account(quoted.encode(), "accounts/a.md").fields == {"title": "Митинг # 2", "place": "Қаңтар"}
