import pytest

from pipeline.text.clean import clean_text, is_boilerplate_line

# An article as a web page export gives it: navigation chrome, a section label, the
# headline twice, a byline and a date stamp, a mid-article link box, and a footer.
PAGE = """Follow Us On Facebook
Defence

Iran Ships Hundreds of Attack Drones to Russia, Officials Say

By Maria Kowalska

Mar. 4 - 2024 10:15 AM EST

Published

on

Iran Ships Hundreds of Attack Drones to Russia, Officials Say.

Trending Now

Western officials said on Monday that Iran had delivered hundreds of drones to Russia.

“The shipments arrived by sea,” one official said.

See Also: Ten Stocks To Watch This Week

The officials said:
the drones were assembled near Kazan.

Why It Matters: The deliveries extend Russia's ability to strike power plants across Ukraine.

How the drones reach the front line

Analysts expect further deliveries before the summer, citing satellite imagery of the port.

Photo: Reuters

Related Articles
Russia fields new glide bombs
Leave a comment
Newsletter
"""


def test_article_page_keeps_content_and_drops_chrome() -> None:
    assert clean_text(PAGE) == (
        "Iran Ships Hundreds of Attack Drones to Russia, Officials Say\n\n"
        "Western officials said on Monday that Iran had delivered hundreds of drones to Russia."
        "\n\n"
        "“The shipments arrived by sea,” one official said.\n\n"
        # Another article's headline is a sentence (claims in it count); see below.
        "See Also: Ten Stocks To Watch This Week\n\n"
        "The officials said:\nthe drones were assembled near Kazan.\n\n"
        "Why It Matters: The deliveries extend Russia's ability to strike power plants "
        "across Ukraine.\n\n"
        "How the drones reach the front line\n\n"
        "Analysts expect further deliveries before the summer, citing satellite imagery of "
        "the port."
    )


def test_cleaning_is_idempotent_on_an_article_page() -> None:
    once = clean_text(PAGE)
    assert clean_text(once) == once


def test_cleaning_is_idempotent_with_stacked_date_prefixes_and_labels() -> None:
    text = (
        "World\nEurope\nNews\nAnother\nLabel\nSix\n"
        "Updated 2024-03-04 | 2024-03-05 | Drones hit the port of Odesa overnight.\n\n"
        "Ukraine said it shot down most of them.\n\nPolitics\nWorld\n"
    )
    once = clean_text(text)
    assert (
        once == "Drones hit the port of Odesa overnight.\n\nUkraine said it shot down most of them."
    )
    assert clean_text(once) == once


def test_newlines_are_normalised() -> None:
    assert clean_text("First line here.\r\nSecond line here.\rThird line here.") == (
        "First line here.\nSecond line here.\nThird line here."
    )


def test_paragraphs_are_separated_by_exactly_one_blank_line() -> None:
    text = "\n\n  First paragraph, line one.\nLine two.\n\n\n\n   \nSecond paragraph.  \n\n"
    assert clean_text(text) == "First paragraph, line one.\nLine two.\n\nSecond paragraph."


def test_odd_spaces_become_plain_spaces_and_runs_collapse() -> None:
    text = "Some\u00a0155\u202fmm shells\u2009and\u2007tanks\tarrived  \u3000 there."
    assert clean_text(text) == "Some 155 mm shells and tanks arrived there."


def test_invisible_characters_are_removed() -> None:
    text = "\ufeffPyong\u00adyang sent\u200b more\u200c shells\u2060 than\u200d expected."
    assert clean_text(text) == "Pyongyang sent more shells than expected."


def test_unicode_is_nfc() -> None:
    decomposed = "The Ministe\u0300re de la De\u0301fense confirmed the order."
    assert clean_text(decomposed) == "The Ministère de la Défense confirmed the order."


def test_quotes_and_dashes_are_kept_as_written() -> None:
    text = "“We will not,” he said — adding ‘never’ and \"no\" in the same 'breath'."
    assert clean_text(text) == text


def test_repeated_line_is_dropped_once() -> None:
    text = "Tanks arrive at the front line\n\nTanks arrive at the front line.\n\nBody text follows."
    assert clean_text(text) == "Tanks arrive at the front line\n\nBody text follows."


def test_repeats_that_are_not_adjacent_are_kept() -> None:
    text = "He said no to the deal.\n\nThen he paused.\n\nHe said no to the deal."
    assert clean_text(text) == text


def test_date_prefix_is_stripped_from_a_sentence() -> None:
    text = " date 2023-11 Officials confirmed the transfer of shells.\n\nMore text follows here."
    assert clean_text(text).startswith("Officials confirmed the transfer of shells.")


def test_date_only_lines_are_dropped() -> None:
    text = "A headline about artillery shells\n\nTuesday, 5 March 2024 09:30 GMT\n\nBody text here."
    assert clean_text(text) == "A headline about artillery shells\n\nBody text here."


def test_sentence_starting_with_a_date_is_kept() -> None:
    text = "January 2024 was the busiest month for deliveries, the report said."
    assert clean_text(text) == text


def test_footer_marker_in_last_third_cuts_the_rest() -> None:
    body = "Russia received the missiles in December, the agency said. " * 4
    text = f"{body}\n\nContinue Reading\n\nSome unrelated teaser about phones and markets today."
    assert clean_text(text) == body.strip()


def test_footer_marker_high_up_does_not_cut() -> None:
    text = (
        "Ukraine asked for more air defence systems.\n\nRead more\n\n"
        + "The request followed a wave of strikes on the power grid overnight. " * 6
    )
    cleaned = clean_text(text)
    assert "Read more" not in cleaned
    assert cleaned.endswith("on the power grid overnight.")


def test_section_label_inside_the_body_is_kept() -> None:
    text = "A headline with several words\n\nFirst paragraph.\n\nBackground\n\nLast paragraph here."
    assert clean_text(text) == text


def test_boilerplate_only_text_cleans_to_empty() -> None:
    assert clean_text("Share this article\nComments\nLoading...\n© 2024 Example Media") == ""


@pytest.mark.parametrize(
    "line",
    [
        "Trending Now",
        "Connect with us",
        "Follow us on X",
        "Share this article",
        "Comments (12)",
        "3 Comments",
        "Leave a comment",
        "Loading...",
        "Posted In:",
        "Filed under: Europe, Defence",
        "Tags: drones, Iran, Russia",
        "Read more:",
        "Related: Iran",
        "Read next: Opinion",
        "Join Now: Free!",
        "Subscribe",
        "Sign up for our daily briefing",
        "Newsletter",
        "Advertisement",
        "Continue Reading",
        "Click here to read the report",
        "Image via Wikimedia Commons",
        "Photo: AFP via Getty Images",
        "Getty Images",
        "We use cookies to improve your experience",
        "© 2024 Example Media Group. All rights reserved.",
        "Published",
        "on",
        "Updated",
        "5 min read",
        "By Maria Kowalska",
        "By JOHN SMITH and Ana de la Cruz",
        "Written by Tomasz Nowak",
        "Author: Li Wei",
        "Reporting by Anna Petrova; Editing by Mark Hill",
        "Key Points:",
        "More from Example Times",
        "* * *",
        "12",
        "Monday, 4 March 2024",
        "10:15 AM EST",
        "Source: Example Wire",
        "Did You Know?",
        "This story was generated using an automated tool and edited by staff.",
        "Market data brought to you by Example Data",
        "Home » World » Europe",
        "News | Video | Opinion | Podcasts",
        "(Photo by Ana Ruiz/Example Wire)",
        "(c) 2024 Example Media",
        "Advertisement - Scroll to continue",
    ],
)
def test_boilerplate_lines(line: str) -> None:
    assert is_boilerplate_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "Iran delivered drones to Russia.",
        "Iran Ships Hundreds of Attack Drones to Russia",
        "How the drones reach the front line",
        "Why It Matters: The deliveries extend Russia's reach.",
        "He said:",
        "The officials told reporters:",
        "By the end of 2023, Russia had fired most of the shells.",
        "By then the factory was running three shifts.",
        "More than 200,000 shells were loaded onto the ship.",
        "Follow-up talks are planned for March",
        "Subscribers to the report were told the shells were old.",
        "Sources say the deliveries will continue",
        "Related talks continue in Moscow on Friday.",
        "Comments from the Kremlin followed a day later.",
        "Share prices of arms makers rose sharply.",
        "January 2024 was the busiest month for deliveries.",
        "“Never,” he said.",
        "Ukraine war | Drones hit Odesa",
        "(The figures could not be independently verified.)",
        # Headlines of other articles: the claim guidelines count a claim made in them.
        "See also: Why oil prices fell on Tuesday",
        "Read more: The full text of the agreement",
        "Related: Drone factory expands in Tatarstan",
        "Read also: Seoul says Pyongyang shipped shells to Moscow",
    ],
)
def test_content_lines_are_not_boilerplate(line: str) -> None:
    assert not is_boilerplate_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Photo: Debris of a drone shot down over Kharkiv is shown to reporters on Monday.",
        "Photo caption: Soldiers unload crates of shells at a depot near the border.",
    ],
)
def test_a_caption_that_is_a_sentence_is_kept(line: str) -> None:
    assert not is_boilerplate_line(line)


@pytest.mark.parametrize(
    "line", ["Photo: Reuters", "Photo: AFP via Getty Images", "Image: Defence Ministry"]
)
def test_a_caption_that_is_a_credit_is_chrome(line: str) -> None:
    assert is_boilerplate_line(line)
