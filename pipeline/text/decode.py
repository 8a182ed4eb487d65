"""Turn a seed file's bytes into text, or into a quarantine reason.

The cascade is: empty -> binary -> UTF-16 (BOM only) -> UTF-8 with BOM -> strict UTF-8 ->
UTF-8 with a few bad bytes -> strict cp1252 -> latin-1. The encoding used is recorded so a
reader of the ledger can tell how every document's text was obtained.

Every test below runs in C (bytes.translate, str.translate, codecs), not in a Python loop
over characters, so large files decode quickly.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["Decoded", "decode_bytes"]

# Signatures of formats that users drop by mistake (exported PDFs, screenshots, archives).
# Checked before anything else because some of them decode "successfully" as latin-1. Only
# signatures long or odd enough never to open an article are listed ("MZ" is not).
BINARY_MAGIC: tuple[bytes, ...] = (
    b"%PDF-",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"PK\x03\x04",  # ZIP, and so DOCX/XLSX/EPUB
    b"PK\x05\x06",  # empty ZIP
    b"\x1f\x8b",  # gzip
    b"\xfd7zXZ\x00",  # xz
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x7fELF",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # legacy MS Office (DOC/XLS)
    b"RIFF",  # WAV/AVI/WEBP
    b"OggS",
    b"ID3",  # MP3
    b"SQLite format 3\x00",
)

# Text never contains C0 control characters other than tab, newline, carriage return and
# form feed, but old files carry the odd stray one (a DOS end-of-file 0x1A, a vertical tab).
# More than 1% of the bytes, and at least three of them, means we are looking at binary data.
MAX_CONTROL_SHARE = 0.01
MIN_CONTROL_COUNT = 3

# A file that is valid UTF-8 except for a few bytes (a truncated copy-paste, one byte of
# another encoding spliced in) is still UTF-8: re-reading it as cp1252 would turn every
# correct multibyte character into mojibake. We tolerate at most one invalid byte per 1,000
# bytes (and always at least one, so a short article with one bad byte is not pushed into
# cp1252), and only when the file has valid multibyte characters proving it is UTF-8.
MAX_INVALID_UTF8_PER_1000 = 1.0
MIN_TOLERATED_INVALID_UTF8 = 1
# Past that tolerance, a file with more valid multibyte characters than invalid bytes is
# still UTF-8, only damaged (a bad copy, bytes spliced from another file): read as cp1252
# it would become mojibake with the wrong encoding recorded, so it is quarantined as
# `undecodable` instead. A file with more invalid bytes than multibyte characters is a
# legacy 8-bit encoding (cp1252 with one pasted UTF-8 apostrophe) and goes on down.

# latin-1 maps every byte to a character, so it never fails; what it produces from a file in
# another encoding (Shift-JIS, GBK, random bytes) is full of C1 controls (U+0080-U+009F),
# which real Western text never contains. Above 5% of the non-space characters, the result
# is not text and the file is quarantined as undecodable.
MAX_C1_SHARE = 0.05

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_ALLOWED_CONTROLS = frozenset(b"\t\n\r\f")
_ASCII_WHITESPACE = b" \t\n\r\f\v"
# bytes.translate(None, delete) keeps what is not deleted: deleting everything but the
# bytes of interest and measuring the rest counts them in C.
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if not (b < 0x20 and b not in _ALLOWED_CONTROLS))
# NEL (U+0085) is whitespace to Python, so it counts as neither visible nor unprintable.
_C1_CHARS = "".join(chr(c) for c in range(0x7F, 0xA0) if c != 0x85)
_SURROGATE_ESCAPES = re.compile("[\udc80-\udcff]")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Decoded:
    """The text of a file, or why it has none.

    ``text`` has no byte-order mark. ``reason`` is None when the bytes were decoded, else
    one of ``'empty'``, ``'binary'``, ``'undecodable'``. ``replacements`` counts the U+FFFD
    characters inserted for invalid bytes in tolerated UTF-8.
    """

    text: str | None
    encoding: str | None
    reason: str | None
    replacements: int = 0


def _quarantine(reason: str) -> Decoded:
    return Decoded(text=None, encoding=None, reason=reason)


def _looks_binary(data: bytes) -> bool:
    if data.startswith(BINARY_MAGIC):
        return True
    if b"\x00" in data:
        return True
    controls = len(data.translate(None, _NOT_CONTROL_BYTES))
    return controls >= MIN_CONTROL_COUNT and controls > MAX_CONTROL_SHARE * len(data)


def _accept(text: str, encoding: str, replacements: int = 0) -> Decoded:
    if not text.strip():
        return _quarantine("empty")
    return Decoded(text=text, encoding=encoding, reason=None, replacements=replacements)


def _decode_utf16(data: bytes) -> Decoded:
    try:
        text = data.decode("utf-16")
    except UnicodeDecodeError:
        return _quarantine("undecodable")
    text = text.removeprefix("\ufeff")
    controls = sum(1 for ch in text if ord(ch) < 0x20 and ch not in "\t\n\r\f")
    if "\x00" in text or (
        controls >= MIN_CONTROL_COUNT and controls > MAX_CONTROL_SHARE * len(text)
    ):
        return _quarantine("binary")
    return _accept(text, "utf-16")


def _decode_mostly_utf8(body: bytes, encoding: str) -> Decoded | None:
    """Decode UTF-8 with a few invalid bytes replaced; quarantine damaged UTF-8 past the
    tolerance; None when the bytes are not UTF-8 at all (try the 8-bit encodings)."""
    # surrogateescape maps each invalid byte to one lone surrogate, which counts them exactly.
    escaped = body.decode("utf-8", errors="surrogateescape")
    invalid = sum(1 for _ in _SURROGATE_ESCAPES.finditer(escaped))
    non_ascii = len(escaped) - len(escaped.encode("ascii", errors="ignore"))
    multibyte = non_ascii - invalid
    allowed = max(MIN_TOLERATED_INVALID_UTF8, MAX_INVALID_UTF8_PER_1000 * len(body) / 1000)
    if multibyte == 0:
        return None
    if invalid > allowed:
        return _quarantine("undecodable") if multibyte > invalid else None
    text = body.decode("utf-8", errors="replace")
    # Count only the U+FFFD we inserted, not any the file legitimately contained.
    replacements = text.count("\ufffd") - escaped.count("\ufffd")
    return _accept(text, encoding, replacements)


def _c1_share(text: str) -> float:
    visible = len(text) - sum(len(m.group()) for m in _WHITESPACE.finditer(text))
    if not visible:
        return 0.0
    unprintable = sum(text.count(ch) for ch in _C1_CHARS)
    return unprintable / visible


def decode_bytes(data: bytes) -> Decoded:
    """Decode a seed file's bytes; never raises.

    Returns a :class:`Decoded` with the text and the encoding used (``'utf-8'``,
    ``'utf-8-sig'``, ``'utf-16'``, ``'cp1252'`` or ``'latin-1'``), or with a quarantine
    reason (``'empty'``, ``'binary'``, ``'undecodable'``) and no text.
    """
    if not data.strip(_ASCII_WHITESPACE):
        return _quarantine("empty")
    if data.startswith(BINARY_MAGIC):
        return _quarantine("binary")
    # UTF-16 text is full of NUL bytes, so its BOM must be honoured before the NUL test.
    # A UTF-32 BOM starts like a UTF-16 one; we do not support UTF-32 and leave it to the
    # binary test, which its NUL bytes fail.
    if data.startswith(_UTF16_BOMS) and not data.startswith(_UTF32_BOMS):
        return _decode_utf16(data)
    if _looks_binary(data):
        return _quarantine("binary")

    body, utf8_label = data, "utf-8"
    if data.startswith(_UTF8_BOM):
        body, utf8_label = data[len(_UTF8_BOM) :], "utf-8-sig"
    try:
        return _accept(body.decode("utf-8"), utf8_label)
    except UnicodeDecodeError:
        pass
    mostly = _decode_mostly_utf8(body, utf8_label)
    if mostly is not None:
        return mostly
    try:
        return _accept(body.decode("cp1252"), "cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
        pass
    text = body.decode("latin-1")
    if _c1_share(text) > MAX_C1_SHARE:
        return _quarantine("undecodable")
    return _accept(text, "latin-1")
