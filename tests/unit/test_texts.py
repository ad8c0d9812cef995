"""Texts as authors save them, and names as cameras write them: encodings, streaming lines, neutral names."""

from __future__ import annotations

import codecs
import re
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirror.privacy import texts
from mirror.privacy.identifiers import scan_blocks
from mirror.privacy.names import folder_pattern, name_pattern, neutral_names, scan_name
from mirror.privacy.texts import TextError, decode_text, text_blocks, text_lines

RUSSIAN = "Алматы, 5 января 2022 года. Люди вышли на площадь Республики.\nзвоните +7 701 123 45 67.\n"


@pytest.mark.parametrize(("raw", "converted", "same_bytes"), [
    pytest.param(RUSSIAN.encode(), None, True, id="utf-8"),
    pytest.param(codecs.BOM_UTF8 + RUSSIAN.encode(), None, True, id="utf-8 with bom"),
    pytest.param(RUSSIAN.encode("utf-16"), "UTF-16", False, id="utf-16 notepad"),
    pytest.param(codecs.BOM_UTF16_BE + RUSSIAN.encode("utf-16-be"), "UTF-16", False, id="utf-16 big-endian"),
    pytest.param(RUSSIAN.encode("utf-32"), "UTF-32", False, id="utf-32"),
])
def test_unicode_texts_are_read_and_utf16_converted(raw: bytes, converted: str | None, same_bytes: bool) -> None:
    """UTF-8 is stored as it is; UTF-16 and UTF-32 with a BOM become UTF-8, and say so."""
    decoded = decode_text(raw, "a.txt")
    assert decoded.text.removeprefix("\ufeff") == RUSSIAN and decoded.converted == converted
    assert (decoded.data == raw) == same_bytes
    assert decoded.data.decode("utf-8-sig") == RUSSIAN


@pytest.mark.parametrize(("encoding", "named"), [
    pytest.param("cp1251", "cp1251", id="russian windows"),
    pytest.param("koi8_r", "koi8_r", id="koi8-r"),
    pytest.param("cp866", "cp866", id="dos"),
    pytest.param("utf-16-le", "utf_16_le", id="utf-16 without bom"),
])
def test_legacy_texts_are_refused_with_their_likely_encoding(encoding: str, named: str) -> None:
    """A text that is not UTF-8 is refused, naming the likely encoding and the option that converts it."""
    raw = (RUSSIAN * 3).encode(encoding)
    with pytest.raises(TextError, match=f"it looks like {named}") as caught:
        decode_text(raw, "accounts/a.txt")
    assert str(caught.value).startswith("accounts/a.txt: not UTF-8 text")
    assert caught.value.hint == f"pass --text-encoding {named} to convert it, or save it as UTF-8"
    decoded = decode_text(raw, "accounts/a.txt", named)
    assert decoded.text == RUSSIAN * 3 and decoded.converted == named and decoded.data == (RUSSIAN * 3).encode()


def test_a_short_cp1251_text_is_still_named() -> None:
    """Even a few words of Russian in cp1251 (too short for a statistical guess) are named as cp1251."""
    with pytest.raises(TextError, match="cp1251"):
        decode_text("Привет".encode("cp1251"), "a.txt")


SHORT_TEXTS = ["Привет, как дела?", "Связь пропала около полудня, мы шли к площади.", "Вечером стреляли.",
               "Account 5 January: на площади Республики было много людей, phone dead.",
               "ЖЕЛТОКСАН, АЛМАТЫ. Ёлка стояла у акимата."]
KAZAKH = "Қаңтар оқиғалары кезінде Алматыда интернет болмады. Біз алаңға бардық."


@pytest.mark.parametrize("encoding", ["cp1251", "koi8_r", "cp866", "mac_cyrillic", "iso8859_5"])
@pytest.mark.parametrize("text", SHORT_TEXTS)
def test_each_cyrillic_code_page_is_named_even_for_a_short_text(encoding: str, text: str) -> None:
    """A few words in cp1251, KOI8-R, cp866, Mac or ISO Cyrillic: the hint names a code page that reads them right."""
    with pytest.raises(TextError) as caught:
        decode_text(text.encode(encoding), "a.txt")
    named = str(caught.value).split("it looks like ")[1].split(" ")[0]
    assert decode_text(text.encode(encoding), "a.txt", named).text == text


def test_kazakh_windows_text_is_named_kz1048() -> None:
    """Kazakh letters saved by Kazakh-language Windows (kz1048) are not taken for cp1251."""
    with pytest.raises(TextError, match="it looks like kz1048"):
        decode_text(KAZAKH.encode("kz1048"), "a.txt")


def test_kazakh_pt154_text_is_named_pt154_and_read_right() -> None:
    """PT154, the other Kazakh code page, puts Kazakh letters elsewhere than kz1048: named as itself, never as
    kz1048 (whose reading would be signed as "Қањтар ... кµшеге")."""
    text = KAZAKH * 3
    with pytest.raises(TextError, match="it looks like ptcp154"):
        decode_text(text.encode("ptcp154"), "a.txt")
    assert decode_text(text.encode("ptcp154"), "a.txt", "ptcp154").text == text


OTHER_SCRIPTS = [
    ("Η Αθήνα είναι η πρωτεύουσα της Ελλάδας. Οι άνθρωποι βγήκαν στους δρόμους το βράδυ.", "cp1253"),  # noqa: RUF001
    ("Η Αθήνα είναι η πρωτεύουσα της Ελλάδας. Οι άνθρωποι βγήκαν στους δρόμους το βράδυ.", "iso8859_7"),  # noqa: RUF001
    ("ירושלים היא עיר עתיקה. אנשים רבים יצאו לרחובות בערב וחיכו לחדשות.", "cp1255"),
    ("القاهرة مدينة كبيرة. خرج الناس إلى الشوارع في المساء وانتظروا الأخبار.", "cp1256"),
    ("서울은 큰 도시입니다. 사람들은 저녁에 거리로 나와 소식을 기다렸습니다.", "euc_kr"),
    ("กรุงเทพเป็นเมืองใหญ่ ผู้คนออกมาบนถนนในตอนเย็นและรอข่าว", "tis_620"),
    ("北京是一座大城市。人们晚上走上街头，等待消息。", "gb18030"),  # noqa: RUF001
    ("東京は大きな都市です。人々は夕方に通りに出て、知らせを待ちました。", "shift_jis"),
]


@pytest.mark.parametrize(("text", "encoding"), OTHER_SCRIPTS)
def test_other_scripts_are_never_named_as_a_cyrillic_code_page(text: str, encoding: str) -> None:
    """Greek and Hebrew read in KOI8-R come out as words of capitals, Arabic, Korean, Thai, Chinese and Japanese
    as unlikely letters: none is taken for Russian, so no hint to convert them into nonsense."""
    with pytest.raises(TextError) as caught:
        decode_text(((text + "\n") * 4).encode(encoding), "a.txt")
    assert not any(f"like {codec}" in str(caught.value) for codec in (
        "cp1251", "koi8", "cp866", "kz1048", "ptcp154", "mac_cyrillic", "iso8859_5")), str(caught.value)


def test_the_guess_reads_where_the_text_stops_being_ascii() -> None:
    """A cp1251 text after 20 KiB of ASCII (a table, a log) is named by its Cyrillic part, not by its start."""
    raw = b"12:00 ok\n" * 2300 + (RUSSIAN * 3).encode("cp1251")
    with pytest.raises(TextError, match="it looks like cp1251"):
        decode_text(raw, "a.txt")


def test_utf8_with_a_part_in_another_encoding_is_named_as_such() -> None:
    """UTF-8 with a line pasted in from a cp1251 text: no one encoding reads it all, so none is offered, and
    --text-encoding, which would garble the UTF-8 part, is refused."""
    raw = (RUSSIAN * 2).encode() + "Ещё одна строка из старого файла.\n".encode("cp1251")
    position = len((RUSSIAN * 2).encode())
    with pytest.raises(TextError, match=f"UTF-8 text up to byte {position}, then not: the rest looks like cp1251"):
        decode_text(raw, "a.txt")
    with pytest.raises(TextError, match="that part would be garbled"):
        decode_text(raw, "a.txt", "cp1251")


def test_an_encoding_given_for_all_is_refused_where_a_file_reads_as_another() -> None:
    """--text-encoding cp1251 applies to every text that is not UTF-8; one saved in KOI8-R would be signed as
    a text of capitals. It is refused, naming its own code page."""
    text = "Вечером стреляли. Связь пропала около полудня, мы шли к площади."
    with pytest.raises(TextError, match="read as cp1251 it is not Russian or Kazakh text; it looks like koi8_r"):
        decode_text(text.encode("koi8_r"), "b.txt", "cp1251")
    with pytest.raises(TextError, match="it looks like cp1251"):
        decode_text(text.encode("cp1251"), "b.txt", "koi8_r")
    assert decode_text(text.encode("cp1251"), "a.txt", "cp1251").text == text
    assert decode_text(text.encode("cp1251"), "a.txt", "windows-1251").text == text
    assert decode_text(text.encode("cp1251"), "a.txt", "kz1048").text == text  # Russian reads the same in both


@pytest.mark.parametrize(("text", "saved", "named"), [
    ("Вечером пятого января люди собрались на площади.", "iso8859_5", "cp1251"),
    ("Вечером пятого января люди собрались на площади.", "cp1251", "iso8859_5"),
    ("Вечером пятого января люди собрались на площади.", "cp1251", "cp866"),
    ("Вечером пятого января люди собрались на площади.", "cp1251", "mac_cyrillic"),
    ("Вечером пятого января люди собрались на площади.", "mac_cyrillic", "cp1251"),
    ("Связи не было.", "cp1251", "mac_cyrillic"),
    ("Связи не было.", "mac_cyrillic", "cp1251"),
    ("Бесінші қаңтар кеші адамдар Республика алаңына жиналды. Күні бойы байланыс болмады.", "ptcp154", "kz1048"),
    ("Бесінші қаңтар кеші адамдар Республика алаңына жиналды. Күні бойы байланыс болмады, ғимарат.", "kz1048",
     "ptcp154"),
])
def test_a_neighbouring_code_page_named_for_a_text_is_refused(text: str, saved: str, named: str) -> None:
    """--text-encoding names one code page for every text of a folder: a text saved in a neighbouring one was
    signed garbled ("ІХзХаЮЬ", "п€того", "қањтар", helper-159): a few letters made signs, letters of other
    languages or capitals inside words, or a reading far less likely than another's, are refused."""
    with pytest.raises(TextError, match="it looks like"):
        decode_text(text.encode(saved), "a.txt", named)
    assert decode_text(text.encode(saved), "a.txt", saved).text == text


@pytest.mark.parametrize(("text", "encoding"), [
    ("Їх було багато на площі, ґанок зруйновано, і ми чекали звістки до ранку.", "cp1251"),
    ("Ўвечары мы пайшлі на плошчу, і там было шмат людзей, якія чакалі навін.", "cp1251"),
    ("Ђаци су чекали на тргу, ћутали су и џеп је био празан, а ноћ је била дуга.", "cp1251"),  # noqa: RUF001
    ("Ѓорѓи и Ѕвезда чекаа на плоштадот до доцна навечер, без вести од никого.", "cp1251"),
    ("Ђаци су чекали на тргу, ћутали су и џеп је био празан, а ноћ је била дуга.", "mac_cyrillic"),  # noqa: RUF001
    ("Η Αθήνα είναι η πρωτεύουσα της Ελλάδας. Οι άνθρωποι βγήκαν στους δρόμους.", "cp1253"),  # noqa: RUF001
    ("Ќе дојдам утре. Ѕидот е висок, а јас чекам пред него со другите луѓе.", "cp1251"),  # noqa: RUF001
    ("Полиција је блокирала улицу. Мој брат је видео све.", "cp1251"),  # short Serbian, with no letter but ј of its own  # noqa: RUF001, RUF003
    ("Полицијата ја блокираше улицата. Ѕидот е висок, ќе дојдам.", "cp1251"),  # short Macedonian  # noqa: RUF001
])
def test_an_encoding_the_author_names_is_taken_for_other_languages(text: str, encoding: str) -> None:
    """Ukrainian, Belarusian, Serbian, Macedonian, Greek: the encoding named reads the file, and no statistics of
    Russian and Kazakh overrule it."""
    raw = text.encode(encoding, "replace")
    assert decode_text(raw, "a.txt", encoding).text == raw.decode(encoding)


def test_kazakh_in_kz1048_is_not_signed_garbled_as_cp1251() -> None:
    """--text-encoding cp1251 on a folder of Russian and Kazakh Windows texts turned the Kazakh one into
    "Ќазаќстан халќы ўлы ґнер", and signed it. The bytes of қ, ә and ң in kz1048 are letters of no Russian,
    Ukrainian or Belarusian text in cp1251 (Macedonian and Serbian ones); texts in those languages also use љ, њ,
    џ, ђ or ѓ, which Kazakh does not."""
    kazakh = "Қазақстан халқы ұлы өнер. Біз алаңда тұрдық, әскерлер келді, байланыс болмады."
    with pytest.raises(TextError, match="it looks like kz1048"):
        decode_text(kazakh.encode("kz1048"), "kk.txt", "cp1251")
    assert decode_text(kazakh.encode("kz1048"), "kk.txt", "kz1048").text == kazakh
    with pytest.raises(TextError, match="it looks like kz1048"):
        decode_text(KAZAKH.encode("kz1048"), "kk.txt", "cp1251")


def test_western_text_is_not_taken_for_cyrillic() -> None:
    """A cp1252 text ("café") is not named as a Cyrillic code page."""
    with pytest.raises(TextError) as caught:
        decode_text("Café au lait, naïve façade, Zürich, déjà vu. The crowd gathered at noon.".encode("cp1252"),
                    "a.txt")
    assert not any(f"like {codec}" in str(caught.value) for codec in ("cp1251", "koi8", "cp866", "kz1048"))


@pytest.mark.parametrize(("encoding", "named"), [("utf-32-le", "utf_32_le"), ("utf-32-be", "utf_32_be")])
def test_utf32_without_bom_is_named_not_called_binary(encoding: str, named: str) -> None:
    """UTF-32 without a byte-order mark is refused as such (not as binary data), and scanned as such."""
    raw = RUSSIAN.encode(encoding)
    with pytest.raises(TextError, match=f"it looks like {named}"):
        decode_text(raw, "a.txt")
    assert texts.stream_codec(raw) == named
    details = [f.detail for f in scan_blocks(text_lines([raw]), "a.txt")]
    assert details == ["line 2: +7 7•• ••• •• 67"]


def test_binary_data_named_like_a_text_is_not_guessed_about() -> None:
    """A photo or an archive named .txt is refused as binary data, not given an encoding."""
    with pytest.raises(TextError, match="not text \\(it holds binary data\\)"):
        decode_text(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)), "a.txt")


def test_the_wrong_encoding_is_an_error_not_a_guess() -> None:
    """--text-encoding that does not fit the bytes is refused, never decoded with replacements."""
    with pytest.raises(TextError, match="not valid ascii text"):
        decode_text(RUSSIAN.encode("cp1251"), "a.txt", "ascii")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "cp1251", "utf-8-sig", "utf-32", "koi8_r"])
@pytest.mark.parametrize("size", [1, 3, 1000])
def test_streamed_text_gives_the_same_findings_in_any_encoding_and_chunking(encoding: str, size: int) -> None:
    """A text read in chunks of any size, in UTF-8, UTF-16 or cp1251, gives the same findings with line numbers."""
    raw = ("первая строка\r\n" * 5 + RUSSIAN * 2).encode(encoding)
    chunks = [raw[i:i + size] for i in range(0, len(raw), size)]
    details = [f.detail for f in scan_blocks(text_lines(chunks), "a.txt")]
    assert details == ["line 7: +7 7•• ••• •• 67", "line 9: +7 7•• ••• •• 67"]


@given(st.lists(st.text(alphabet="ab\n\r\u2028\x0c 7", max_size=40), max_size=20))
def test_blocks_rebuild_the_text_and_number_lines_like_editors(parts: list[str]) -> None:
    """Blocks (less what each repeats) rebuild the text, "\\r\\n" as one break; lines are counted as editors and
    grep -n count them: "\\n", "\\r" and "\\r\\n" end a line, a form feed or U+2028 does not."""
    original = "".join(parts)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(texts, "MAX_BLOCK", 16)
        patch.setattr(texts, "OVERLAP", 4)
        rebuilt, last = "", 1
        for first, block, seen in text_blocks(parts):
            start = len(rebuilt) - seen
            assert block[:seen] == rebuilt[start:]
            assert first == 1 + texts.count_breaks(rebuilt[:start])  # every break character is one line
            rebuilt += block[seen:]
            last = first + texts.count_breaks(block)
    assert rebuilt.replace("\n", "").replace("\r", "") == original.replace("\n", "").replace("\r", "")
    lines = re.split(r"\r\n|\r|\n", original)
    assert last == len(lines)  # the number of the line after the last break


def test_a_huge_line_is_scanned_in_bounded_memory() -> None:
    """Text lines of 64 MiB without a break are scanned with a few MiB of memory, and the number at the end found."""
    chunk = b"x" * (1 << 20)

    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield chunk
        yield b" +7 701 123 45 67\n"

    tracemalloc.start()
    details = [f.detail for f in scan_blocks(text_lines(chunks()), "big.txt")]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert details == ["line 1: +7 7•• ••• •• 67"]
    assert peak < 12 << 20, peak


@pytest.mark.parametrize(("name", "what"), [
    ("IMG_20220105_183012.jpg", "a capture time"), ("PXL_20220105_183012345.jpg", "a capture time"),
    ("WhatsApp Image 2022-01-05 at 18.30.12.jpeg", "a capture time"),
    ("signal-2022-01-05-183012.jpg", "a capture time"),
    ("Screenshot_20220105-183012.png", "a capture time"), ("IMG-20220105-WA0003.jpg", "a capture time"),
    ("photo_2022-01-05_18-30-12.jpg", "a capture time"), ("DSC_0042.JPG", "a camera"), ("DSCF1234.JPG", "a camera"),
    ("P1010001.JPG", "a camera"), ("GOPR0042.JPG", "a camera"), ("IMG_0001.HEIC", "a camera"),
    ("Снимок экрана 2022-01-05 в 18.30.12.png", "a camera"),
    ("5F2A1B3C-1234-4ABC-9DEF-0123456789AB.jpg", "a camera"),
    ("FB_IMG_1641234567890.jpg", "a capture time"), ("mmexport1641234567890.jpg", "a capture time"),
    ("wx_camera_1641234567890.jpg", "a capture time"), ("Snapchat-1641234567.jpg", "a capture time"),
    ("1641234567890.jpg", "a capture time"), ("IMG_E1234.JPG", "a camera"), ("IMG_1234 2.JPG", "a camera"),
    ("image0.jpeg", "a camera"), ("received_1234567890123456.jpeg", "a camera"),
    ("-2147483648_-210000.jpg", "a camera"), ("LINE_P20220105_183012345.jpg", "a capture time"),
    ("PXL_20220105_183012345.MP.jpg", "a capture time"),
    ("IMG-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d-V.jpg", "a camera"), ("Screenshot (12).png", "a camera"),
    ("Screenshot_2022-01-05-18-30-12-123_com.whatsapp.jpg", "a capture time"),
    ("Screenshot 2022-01-05 183012.png", "a capture time"),
    ("signal-2022-01-05-18-30-12-123.jpg", "a capture time"),
    ("photo_2022-01-05_18-30-12 (2).jpg", "a capture time"),
    ("viber_image_2022-01-05_18-30-12-123.jpg", "a capture time"),
    ("PHOTO-2022-01-05-18-30-12.jpg", "a capture time"), ("20220105_183012(0).jpg", "a capture time"),
    ("05.01.2022 18.30.jpg", "a capture time"), ("05-01-22_18-30-12.jpg", "a capture time"),
    ("Photo 05.01.22, 18 30 12.jpg", "a capture time"), ("微信图片_20220105183012.jpg", "a capture time"),
    ("05-01-2022.jpg", "a capture date"), ("05.01.2022 (2).jpg", "a capture date"),
    ("2022-01-05.jpg", "a capture date"), ("20220105.jpg", "a capture date"),
])
def test_device_and_capture_time_names_are_recognised(name: str, what: str) -> None:
    """Camera, phone, screenshot and messenger names are recognised, with what they carry."""
    assert (name_pattern(name) or "").startswith(what)


@pytest.mark.parametrize("name", ["square.jpg", "01-republic-square-night.jpg", "2022-01-05-square.jpg",
                                  "площадь.png", "IMG.jpg", "abai-avenue-1830.jpg", "image.jpg", "cat 2021.jpg",
                                  "room 101 at 18.30.jpg", "rally 2022 1830.jpg", "day 1 12.30.jpg"])
def test_neutral_names_are_left_alone(name: str) -> None:
    """Names an author chose, with a date alone or a number, are not renamed."""
    assert name_pattern(name) is None


@pytest.mark.parametrize("name", ["FB_IMG_1641234567890.jpg", "mmexport1641234567890.jpg", "IMG_E1234.JPG",
                                  "05.01.2022 18.30.jpg", "05-01-2022.jpg", "photo_2022-01-05_18-30-12.jpg"])
def test_create_and_scan_agree_on_names(name: str) -> None:
    """A photo name that scan reports is the one create renames, and the other way round."""
    member = f"photos/{name}"
    assert [f.kind for f in scan_name(member, True)] == ["name"]
    assert neutral_names([member], taken=set()) == {member: "photos/001." + name.rsplit(".", 1)[1].lower()}


def test_neutral_names_keep_order_folders_and_avoid_collisions() -> None:
    """Renamed photos are numbered in the original order, in the author's folders; camera folders go."""
    renamed = neutral_names(["photos/DCIM/Camera/IMG_20220105_183013.JPG", "photos/DCIM/Camera/IMG_20220105_183012.jpg",
                             "photos/square.jpg", "photos/001.jpg", "photos/DCIM/holiday.jpg", "photos/holiday.jpg",
                             "photos/day 2/DSC_0042.JPG"], taken={"accounts/a.md"})
    assert renamed == {"photos/DCIM/Camera/IMG_20220105_183012.jpg": "photos/002.jpg",
                       "photos/DCIM/Camera/IMG_20220105_183013.JPG": "photos/003.jpg",
                       "photos/DCIM/holiday.jpg": "photos/004.jpg",
                       "photos/day 2/DSC_0042.JPG": "photos/day 2/001.jpg"}
    assert folder_pattern("100CANON") and folder_pattern("WhatsApp Images") and not folder_pattern("day 2")


def test_names_are_scanned_for_identifiers_and_patterns() -> None:
    """A phone number or an e-mail in any name is found; a capture time only in a photo's name."""
    found = {(f.kind, f.detail) for f in scan_name("accounts/call +7 701 123 45 67 or a.b@mail.kz.md", False)}
    assert found == {("phone", "name: +7 7•• ••• •• 67"), ("email", "name: a.b@••••.kz")}
    assert scan_name("accounts/IMG_20220105_183012.md", False) == []
    assert [f.kind for f in scan_name("DCIM/IMG_20220105_183012.jpg", True)] == ["name", "name"]


def test_a_utf16_text_without_a_bom_is_not_read_in_the_legacy_encoding_named_for_the_others() -> None:
    """--text-encoding cp1251, named for a folder's legacy files, was applied to a UTF-16 file without a BOM too,
    which was then refused as holding control characters: it is said to be UTF-16, and how to fix it."""
    raw = "Алматы, 5 января. Люди вышли на площадь.\n".encode("utf-16-le")
    with pytest.raises(TextError, match="looks like UTF-16LE text without a byte-order mark, not cp1251"):
        decode_text(raw, "a.txt", "cp1251")
    for named in ("utf_16_le", "utf-16", "UTF16"):  # the generic name reads it too, as it did (helper-124)
        assert decode_text(raw, "a.txt", named).text.startswith("Алматы")
    assert decode_text("Алматы".encode("utf-16-be"), "a.txt", "utf-16").text == "Алматы"
    assert decode_text("Алматы".encode("cp1251"), "b.txt", "cp1251").text == "Алматы"


@pytest.mark.parametrize(("text", "wrote", "named", "says"), [
    ("Интернета нет третий день. Банкоматы не работают.", "cp866", "cp1251", "it looks like cp866"),
    ("Біз аманбыз, қорықпаңдар.", "kz1048", "cp1251", "it looks like kz1048"),
    ("Утром пятого числа на площади собрались люди.", "cp1251", "latin-1", "it looks like cp1251"),
    ("Утром пятого числа на площади собрались люди.", "cp1251", "cp1252", "it looks like cp1251"),
    ("Утром на площади собрались люди.", "cp1251", "utf-16", "characters no text has"),  # an even length
])
def test_an_encoding_named_for_the_folder_never_signs_another_files_text_garbled(text: str, wrote: str, named: str,
                                                                                says: str) -> None:
    """--text-encoding cp1251 named for a folder's legacy files read a DOS or a short Kazakh note in it as cp1251
    ("€­вҐа­Ґв", "ќорыќпаѕдар"), and Latin-1 or UTF-16 named for a cp1251 file passed too: each was signed
    garbled. Each is refused, saying what it looks like (helper-121)."""
    with pytest.raises(TextError, match=says):
        decode_text(text.encode(wrote), "a.txt", named)
    assert decode_text(text.encode(wrote), "a.txt", wrote).text == text


def test_a_dos_text_ending_in_ctrl_z_is_read_without_it() -> None:
    """DOS editors ended a text with ^Z (0x1A): a cp866 account with one was refused as holding characters no text
    has, though its encoding was named right (helper-124)."""
    raw = "Интернета нет третий день.\r\n".encode("cp866") + b"\x1a"
    assert decode_text(raw, "a.txt", "cp866").text == "Интернета нет третий день.\r\n"


def test_a_final_ctrl_z_is_dropped_only_where_it_is_a_byte_of_its_own() -> None:
    """In UTF-16BE the capital К is the bytes 04 1A: a text ending in "РК" lost its last byte to the ^Z rule and
    was refused (helper-125). ^Z is dropped only in one-byte code pages, every one at the end (CP/M padding)."""
    text = "Мы пишем, чтобы помнить. Алматы, РК"
    assert decode_text(text.encode("utf-16-be"), "a.txt", "utf-16-be").text == text
    assert decode_text(text.encode("cp866") + b"\x1a\x1a\x1a", "a.txt", "cp866").text == text
    assert decode_text("日本語のテキスト。".encode("cp932") + b"\x1a", "a.txt", "cp932").text == "日本語のテキスト。"


@pytest.mark.parametrize(("raw", "said"), [
    ("Вечером пятого января люди собрались на площади.".encode().decode("cp1251").encode(),
     "read as cp1251 and saved again"),
    ("Вечером пятого января люди собрались на площади.".encode().decode("latin-1").encode(),
     "read as latin-1 and saved again"),
    ("Вечером пятого января люди собрались на площади.".encode().decode("koi8_r").encode(),
     "read as koi8_r and saved again"),
    ("?а?тар ала?ына К?ні келдік, ?алада".encode(), "inside words in 3 places (?а?тар)"),
    ("Бес\ufffdнші қа\ufffdтар ала\ufffdына".encode(), "inside words in 3 places"),
    # helper-165: a table's cells are words apart; a date elsewhere on a line hid every lost letter on it
    ("".join(f"{i},Жа?сыбеков,А?жол,12/03/2024\n" for i in range(3)).encode(), "inside words in 6 places"),
])
def test_a_text_damaged_before_it_came_is_refused(raw: bytes, said: str) -> None:
    """Kazakh saved as cp1251 "ANSI" ("?а?тар"), and UTF-8 read as cp1251 or Latin-1 and saved again
    ("Р\u2019РµС‡РµСЂРѕРј"), were signed as they were (helper-159)."""
    with pytest.raises(TextError, match=re.escape(said)):
        decode_text(raw, "a.md")


@pytest.mark.parametrize("text", [
    "Вечером пятого января люди собрались на площади. Что? Где? Да?Нет?", "Қаңтар алаңына күні келдік, қалада",
    "Café au lait, naïve façade, Zürich, déjà vu — résumé", "Ünïcödé ẞtraße ñandú çà et là: Ωμέγα",
    "Алматы: «Что?» — спросил он. Ok? ok? Ja?",
    # helper-163: a question without its space before a capital, links with a Cyrillic query
    "Смотрели «Что?Где?Когда?» вчера. В субботу снова «Что?Где?Когда?».", "Ты где?Я здесь.Пришёл?Да.Видел?Нет.",
    "сайт.рф/поиск?запрос=1, wiki/Поиск?действие=2, сайт.рф/а?б=в и сайт.рф/поиск?слово",  # noqa: RUF001
])
def test_ordinary_texts_are_not_called_damaged(text: str) -> None:
    assert decode_text(text.encode(), "a.md").text == text


def test_a_text_the_author_takes_as_it_is_is_not_checked_for_damage() -> None:
    """Censored words (х?й, б??дь) are "?" inside words too: `create --keep-text FILE` signs such a file as it is."""  # noqa: RUF002
    text = "Он сказал х?й, потом б??дь и п??дец.\n"  # noqa: RUF001
    with pytest.raises(TextError) as refused:
        decode_text(text.encode(), "a.md")
    assert "--keep-text FILE" in (refused.value.hint or "")
    assert decode_text(text.encode(), "a.md", as_it_is=True).text == text


def test_a_short_kazakh_note_offers_both_kazakh_code_pages_with_how_each_reads() -> None:
    """A short kz1048 note was named PT154, and following the hint signed "аәайын" for "ағайын" (helper-159): the
    two Kazakh code pages are offered with the first word each reads otherwise; the right one reads it right."""
    note = "Біз қорықпаймыз, ағайын.\n"
    with pytest.raises(TextError) as caught:
        decode_text(note.encode("kz1048"), "n.kk.md")
    assert "kz1048 (ағайын)" in (caught.value.hint or "") and "ptcp154 (аәайын)" in (caught.value.hint or "")
    assert decode_text(note.encode("kz1048"), "n.kk.md", "kz1048").text == note
