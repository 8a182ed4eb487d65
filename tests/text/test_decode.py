import codecs

import pytest

from pipeline.text.decode import MAX_INVALID_UTF8_PER_1000, decode_bytes

ARTICLE = "Officials said the “Shahed” drones cost about €20,000 each — far less than a missile."


def test_strict_utf8() -> None:
    decoded = decode_bytes(ARTICLE.encode("utf-8"))
    assert decoded.text == ARTICLE
    assert decoded.encoding == "utf-8"
    assert decoded.reason is None
    assert decoded.replacements == 0


def test_utf8_bom_is_recorded_and_removed() -> None:
    decoded = decode_bytes(codecs.BOM_UTF8 + ARTICLE.encode("utf-8"))
    assert decoded.encoding == "utf-8-sig"
    assert decoded.text == ARTICLE
    assert not decoded.text.startswith("\ufeff")


def test_utf16_with_bom() -> None:
    decoded = decode_bytes(ARTICLE.encode("utf-16"))
    assert decoded.encoding == "utf-16"
    assert decoded.text == ARTICLE


def test_cp1252_euro_and_curly_quotes_decode_faithfully() -> None:
    text = "The “deal” was worth €3 million, said the minister’s office in Zürich."
    decoded = decode_bytes(text.encode("cp1252"))
    assert decoded.encoding == "cp1252"
    assert decoded.text == text


def test_latin1_when_cp1252_has_an_undefined_byte() -> None:
    # 0x81 is undefined in cp1252, so only latin-1 can read this; one stray byte is tolerated.
    data = "Le ministère a confirmé la livraison de munitions à Kyiv hier soir.".encode("latin-1")
    decoded = decode_bytes(data + b" \x81")
    assert decoded.encoding == "latin-1"
    assert decoded.reason is None
    assert decoded.text is not None
    assert decoded.text.startswith("Le ministère a confirmé")


def test_text_dominated_by_c1_controls_is_undecodable() -> None:
    data = b"abc " + bytes(range(0x80, 0xA0)) * 4 + b" xyz"
    decoded = decode_bytes(data)
    assert decoded.reason == "undecodable"
    assert decoded.text is None
    assert decoded.encoding is None


def test_shift_jis_is_undecodable_rather_than_mojibake() -> None:
    data = "北朝鮮がロシアに砲弾を供給したと報じられた。".encode("shift_jis")
    assert decode_bytes(data).reason == "undecodable"


def test_mostly_utf8_with_one_bad_byte_is_utf8_with_replacement() -> None:
    data = ARTICLE.encode("utf-8") + b" Then \xff the talks ended."
    decoded = decode_bytes(data)
    assert decoded.encoding == "utf-8"
    assert decoded.replacements == 1
    assert decoded.text is not None
    assert "“Shahed”" in decoded.text  # the valid multibyte characters are intact
    assert "Then \ufffd the talks" in decoded.text


def test_replacement_characters_already_in_the_file_are_not_counted() -> None:
    data = "Garbled \ufffd source. ".encode() + ARTICLE.encode("utf-8") + b"\xfe"
    decoded = decode_bytes(data)
    assert decoded.encoding == "utf-8"
    assert decoded.replacements == 1
    assert decode_bytes("Garbled \ufffd source.".encode()).replacements == 0


def test_many_invalid_bytes_fall_back_to_cp1252() -> None:
    # Several cp1252 accents and one UTF-8 apostrophe: too many invalid bytes to be UTF-8.
    data = "Café résumé naïve déjà vu ".encode("cp1252") + "it’s".encode()
    decoded = decode_bytes(data)
    assert len(data) < 1000 / MAX_INVALID_UTF8_PER_1000
    assert decoded.encoding == "cp1252"
    assert decoded.text is not None
    assert decoded.text.startswith("Café résumé")


def test_invalid_bytes_without_multibyte_text_are_not_utf8() -> None:
    decoded = decode_bytes("A short note about the café.".encode("cp1252"))
    assert decoded.encoding == "cp1252"
    assert decoded.text == "A short note about the café."


@pytest.mark.parametrize("data", [b"", b"   ", b"\n\r\n\t \x0c", codecs.BOM_UTF8 + b" \n "])
def test_empty_and_whitespace_only(data: bytes) -> None:
    decoded = decode_bytes(data)
    assert decoded.reason == "empty"
    assert decoded.text is None


def test_no_break_spaces_only_is_empty() -> None:
    assert decode_bytes("\u00a0 \u00a0".encode()).reason == "empty"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"GIF89a\x01\x00\x01\x00",
        b"PK\x03\x04\x14\x00\x06\x00",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
        b"Some text\x00with a NUL byte in the middle",
        b"\x01\x02\x03\x04\x05 looks like text but is full of control bytes \x06\x07\x08",
    ],
)
def test_binary(data: bytes) -> None:
    decoded = decode_bytes(data)
    assert decoded.reason == "binary"
    assert decoded.text is None


def test_one_stray_control_byte_is_not_binary() -> None:
    data = b"Russia received the shells in March and used them within weeks.\x1a"
    decoded = decode_bytes(data)
    assert decoded.reason is None
    assert decoded.encoding == "utf-8"


@pytest.mark.parametrize("data", [bytes(range(256)), bytes(range(255, -1, -1)) * 3, b"\xfe\xff"])
def test_never_raises(data: bytes) -> None:
    decoded = decode_bytes(data)
    assert (decoded.text is None) == (decoded.reason is not None)
