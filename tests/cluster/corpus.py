"""A generated corpus of news-like articles about arms transfers, for the cluster tests
and `make bench-cluster`: a few templates filled from small pools with a seeded random
generator, so the same seed gives the same files."""

from __future__ import annotations

import random
from pathlib import Path

SUPPLIERS = ["Russia", "Iran", "North Korea", "the United States", "Germany", "France", "China"]
RECIPIENTS = ["Ukraine", "Russia", "Israel", "Poland", "Taiwan", "Saudi Arabia", "India"]
WEAPONS = [
    ("artillery shells", "155mm artillery shells"),
    ("drones", "Shahed drones"),
    ("ballistic missiles", "short-range ballistic missiles"),
    ("tanks", "Leopard 2 tanks"),
    ("air defence systems", "Patriot air defence systems"),
    ("howitzers", "self-propelled howitzers"),
    ("fighter jets", "F-16 fighter jets"),
]
SOURCES = [
    "officials in Kyiv",
    "a defence ministry spokesman",
    "Western intelligence officials",
    "the Institute for the Study of War",
    "a senior diplomat who asked not to be named",
]
HEDGES = ["reportedly", "allegedly", "is believed to have", "may have"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "September"]

HEADLINES = [
    "{supplier} sends {weapon} to {recipient}",
    "{recipient} receives new {weapon} from {supplier}, {source} say",
    "Report: {supplier} {hedge} supplied {weapon} to {recipient}",
]
PARAGRAPHS = [
    "{supplier} has delivered {quantity} {weapon_long} to {recipient}, according to "
    "{source}. The shipment arrived in {month}, {source2} said on Tuesday.",
    "{source_cap} said {supplier} {hedge} transferred {weapon} to {recipient} earlier this "
    "year, although the government in question denied the claim.",
    "{recipient} bought {quantity} {weapon_long} from {supplier} in a deal signed in "
    "{month}, the ministry said in a statement.",
    "{supplier} did not send any {weapon} to {recipient}, a spokesman insisted, calling "
    "the reports baseless.",
    "Analysts said the {weapon} would be used on the front line within weeks. {recipient} "
    "has used similar systems since {month}.",
    "Production of {weapon_long} in {supplier} rose sharply in {month}, {source} told "
    "reporters, adding that {quantity} units were produced.",
    "The talks between {supplier} and {recipient} also covered fuel, grain and the "
    "exchange of prisoners, and ended without a joint statement.",
]


def article(rng: random.Random, index: int) -> str:
    """One article: a headline, a dateline and 4-9 paragraphs."""

    def fill(template: str) -> str:
        short, long = rng.choice(WEAPONS)
        source = rng.choice(SOURCES)
        return template.format(
            supplier=rng.choice(SUPPLIERS),
            recipient=rng.choice(RECIPIENTS),
            weapon=short,
            weapon_long=long,
            source=source,
            source_cap=source[0].upper() + source[1:],
            source2=rng.choice(SOURCES),
            hedge=rng.choice(HEDGES),
            quantity=rng.choice(["12", "40", "300", "about 1,000", "dozens of", "two"]),
            month=rng.choice(MONTHS),
        )

    body = [fill(rng.choice(PARAGRAPHS)) for _ in range(rng.randint(4, 9))]
    dateline = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, 2024 (report {index})"
    return "\n\n".join([fill(rng.choice(HEADLINES)), dateline, *body]) + "\n"


def write_corpus(folder: Path, documents: int, seed: int = 21) -> Path:
    """`documents` distinct articles as .txt files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for index in range(documents):
        (folder / f"generated_{index:05d}.txt").write_text(article(rng, index), encoding="utf-8")
    return folder
