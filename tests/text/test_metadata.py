import pytest

from pipeline.text.metadata import ManifestRow, extract_title, find_outlet, parse_manifest


@pytest.mark.parametrize(
    ("clean", "expected"),
    [
        (
            "Iran Ships Hundreds of Attack Drones to Russia\n\nBody text follows.",
            "Iran Ships Hundreds of Attack Drones to Russia",
        ),
        ("  Tanks reach the front line  \nMore text.", "Tanks reach the front line"),
        # A single-sentence headline keeps its full stop: titles are kept as written.
        (
            "Iran is the largest supplier of drones to Russia.\n\nBody.",
            "Iran is the largest supplier of drones to Russia.",
        ),
        ("Will the shells keep coming?\n\nBody.", "Will the shells keep coming?"),
    ],
)
def test_extract_title(clean: str, expected: str) -> None:
    assert extract_title(clean) == expected


@pytest.mark.parametrize(
    "clean",
    [
        "",
        "Drones\n\nBody text follows here.",
        "Two words\n\nBody.",
        "5 November 2023\n\nBody text follows here.",
        "Share this article\n\nBody text follows here.",
        "Iran sent drones. Russia used them on Odesa the same week.\n\nBody.",
        " ".join(["word"] * 31),
    ],
)
def test_extract_title_none(clean: str) -> None:
    assert extract_title(clean) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Headline\n\nBody text.\n\nSource: Example Daily", "Example Daily"),
        (
            "Headline\n\nBody text.\n\nSource: https://www.example-news.com/world/drones",
            "example-news.com",
        ),
        ("Headline\nPublisher: The Example Times\nBody.", "The Example Times"),
        ("Headline\n\nKYIV, March 3 (Example Wire) - Drones struck the port.", "Example Wire"),
        ("Headline\n\nWASHINGTON (XYZ) \u2014 Officials said on Monday.", "XYZ"),
        ("Headline\n\nBody.\n\n\u00a9 2024 Example Media. All rights reserved.", "Example Media"),
        ("Headline\n\nBody.\n\nCopyright 2019-2024 Example Media Group", "Example Media Group"),
    ],
)
def test_find_outlet(raw: str, expected: str) -> None:
    assert find_outlet(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "Headline\n\nBody text that names no outlet at all.",
        # Attribution inside a sentence is not the publishing outlet.
        "Headline\n\nThe officials spoke to reporters, Example Wire reported.",
        "Headline\n\nBody.\n\nSource: a senior official who asked not to be named in this story",
        "Headline\n\nThe military intelligence agency (GUR), said the shells arrived.",
    ],
)
def test_find_outlet_none(raw: str) -> None:
    assert find_outlet(raw) is None


def test_parse_manifest_full() -> None:
    text = (
        "file,published,date_precision,outlet,url,title,notes\n"
        "a.txt,2024-03-04,day,Example Daily,https://example.com/a,Drones arrive,checked\n"
        "sub/b.md,2024-03,month,,,,\n"
    )
    rows = parse_manifest(text)
    assert rows == {
        "a.txt": ManifestRow(
            file="a.txt",
            published="2024-03-04",
            date_precision="day",
            outlet="Example Daily",
            url="https://example.com/a",
            title="Drones arrive",
        ),
        "sub/b.md": ManifestRow(
            file="sub/b.md",
            published="2024-03",
            date_precision="month",
            outlet=None,
            url=None,
            title=None,
        ),
    }


def test_parse_manifest_subset_of_columns_in_any_order() -> None:
    rows = parse_manifest("outlet, file\nExample Daily, a.txt\n")
    assert rows["a.txt"] == ManifestRow("a.txt", None, None, "Example Daily", None, None)


def test_parse_manifest_quoted_cells_bom_and_blank_rows() -> None:
    text = '\ufeffFile,Outlet\n"c, d.txt","Example, Inc."\n\n,Orphan Outlet\n'
    rows = parse_manifest(text)
    assert list(rows) == ["c, d.txt"]
    assert rows["c, d.txt"].outlet == "Example, Inc."


def test_parse_manifest_short_rows_give_none() -> None:
    rows = parse_manifest("file,published,outlet\na.txt,2024\n")
    assert rows["a.txt"].published == "2024"
    assert rows["a.txt"].outlet is None


@pytest.mark.parametrize("text", ["", "name,published\na.txt,2024-03-04\n", "\n\n"])
def test_parse_manifest_without_file_column(text: str) -> None:
    with pytest.raises(ValueError, match="no 'file' column"):
        parse_manifest(text)


def test_parse_manifest_conflicting_duplicates() -> None:
    text = "file,published\na.txt,2024-03-04\na.txt,2024-03-05\n"
    with pytest.raises(ValueError, match="a.txt"):
        parse_manifest(text)


def test_parse_manifest_identical_duplicates_are_fine() -> None:
    assert len(parse_manifest("file,published\na.txt,2024\na.txt,2024\n")) == 1
