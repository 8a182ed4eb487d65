"""Which documents tell the same story: one wire copy republished or closely rewritten by
several outlets. Corroboration then counts independent stories, not copies.

Documents are compared passage by passage (a passage is a sentence or a line of
`clean_text`), not as whole bags of words: outlets that rewrite a wire copy keep its
sentences in order and change a few words in each, while independent reports of the same
event share at most a quote or two. On the seed articles the whole-text Jaccard of word
3-shingles is 0.11 for the rewritten pair (003/004) and up to 0.06 for independent reports
of one interview (000/001/002): too close to separate, and far below the similarities at
which MinHash LSH finds candidates cheaply. Passage by passage the same pair shares 8 of
15 passages; no independent pair shares more than 2 of 12.

The method, all of it cheap and incremental:
1. Each passage becomes the set of its content words (lower case, spaCy's English stop
   words and one-letter tokens left out). Passages with fewer than PASSAGE_MIN_WORDS
   content words ("Published", "on") are ignored.
2. A MinHash of each passage (datasketch's affine32 scheme, computed here in numpy with
   every distinct word hashed once) is cut into BANDS bands of ROWS values; each band
   hashes to one integer key. Stored per document, these keys let a SQL join find
   the old passages that may resemble a new one (LSH) without reading old texts.
3. Band keys shared by more than MAX_BUCKET_DOCUMENTS documents are boilerplate (a
   publisher's footer, a background sentence every report repeats, a house template) and
   are left out of the search: they would make most pairs candidates, so the cost would
   grow with the square of the corpus. Candidate document pairs are those whose remaining
   collisions cover at least SAME_STORY_MIN_PASSAGES passages of each document and at
   least SAME_STORY_OVERLAP of one of them (the collisions estimate the shared passages).
4. Candidates are scored exactly: a passage is shared when its word-set Jaccard with some passage of
   the other document is at least PASSAGE_JACCARD; the pair's overlap is the larger of
   the two documents' shares of shared passages (so a wire copy padded with extra
   paragraphs still matches its source).
5. Two documents are the same story when they share at least SAME_STORY_MIN_PASSAGES
   passages and their overlap is at least SAME_STORY_OVERLAP; stories are the connected
   groups of such pairs, named by their smallest doc_id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import numpy as np

# A sentence rewritten by another outlet keeps about half its content words: the eight
# passage pairs of 003/004 score 0.41 to 0.81. Independent reports of one interview pass
# 0.4 only where they quote the same words (one or two passages per pair on the seeds).
PASSAGE_JACCARD = 0.4
# Shorter passages are datelines, bylines and "Published on": they say nothing.
PASSAGE_MIN_WORDS = 5
# One shared quote never makes two articles one story; a rewrite shares most passages.
# Seeds: 003/004 overlap 0.53 (8 shared); the most similar independent pair 0.17 (2).
SAME_STORY_MIN_PASSAGES = 2
SAME_STORY_OVERLAP = 0.3
# 32 bands of 3 MinHash values: a passage pair at Jaccard 0.4 collides in some band with
# probability 1 - (1 - 0.4**3)**32 = 0.88 (0.98 at 0.5), one at 0.1 with 0.03.
BANDS = 32
ROWS = 3
NUM_PERM = BANDS * ROWS
# A band key found in more documents than this is boilerplate, not evidence of a shared
# story (see 3. above). A wire story republished verbatim by more outlets than this is
# missed; below it, candidate search costs at most this many documents per key.
MAX_BUCKET_DOCUMENTS = 50
# MinHash permutations are drawn from this seed: keys stored by one run must match the
# keys computed by the next.
SEED = 20240921

# Stored with the index: a different version re-indexes and re-compares every document.
# The numbers above are in it; bump v2 when the passage or word rules below change.
STORIES_VERSION = (
    f"stories.v2:j{PASSAGE_JACCARD}:w{PASSAGE_MIN_WORDS}:p{SAME_STORY_MIN_PASSAGES}"
    f":o{SAME_STORY_OVERLAP}:b{BANDS}x{ROWS}:c{MAX_BUCKET_DOCUMENTS}:s{SEED}"
)

Word = TypeVar("Word", str, int)

PASSAGE_BREAK = re.compile(r"\n+|(?<=[.!?…])[\"'”’)]*\s+")
WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """spaCy's English stop words. Imported on first use: importing spaCy takes about a
    second, which a run with no new document should not pay."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def passages(text: str) -> list[frozenset[str]]:
    """The content-word sets of a text's passages (sentences and lines), in order,
    without the passages too short to compare."""
    skip = stop_words()
    found = []
    for piece in PASSAGE_BREAK.split(text):
        words = frozenset(w for w in WORD.findall(piece.lower()) if len(w) > 1 and w not in skip)
        if len(words) >= PASSAGE_MIN_WORDS:
            found.append(words)
    return found


# Odd 64-bit multipliers that fold a band's ROWS MinHash values into one key, and the
# constants of the splitmix64 finaliser that spreads the bits of the sum.
_ROW_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93][:ROWS],
    dtype=np.uint64,
)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The NUM_PERM affine permutations h -> a * h + b (mod 2**32, `a` odd) drawn from SEED,
    exactly as datasketch's MinHash (scheme affine32) draws them: the keys stored by
    earlier runs, made with that class, must match the keys made now."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _word_hashes(words: Iterable[str]) -> np.ndarray:
    """The 32-bit hash of each word: the first 4 bytes of its SHA-1 (little-endian), then
    the MurmurHash3 finaliser, as datasketch's MinHash does before permuting."""
    hv = np.fromiter(
        (int.from_bytes(hashlib.sha1(w.encode()).digest()[:4], "little") for w in words),
        dtype=np.uint32,
    )
    hv ^= hv >> np.uint32(16)
    hv *= np.uint32(0x85EBCA6B)
    hv ^= hv >> np.uint32(13)
    hv *= np.uint32(0xC2B2AE35)
    hv ^= hv >> np.uint32(16)
    return hv


# Word entries whose permuted hashes are held at once (4 bytes times NUM_PERM each).
_MINHASH_CHUNK_WORDS = 32_768


def _signatures(all_passages: Sequence[Collection[str]]) -> np.ndarray:
    """The MinHash (NUM_PERM uint32 values) of each passage; every distinct word is hashed
    and permuted once."""
    vocabulary: dict[str, int] = {}
    entries = np.fromiter(
        (vocabulary.setdefault(w, len(vocabulary)) for words in all_passages for w in words),
        dtype=np.int64,
    )
    sizes = np.fromiter((len(words) for words in all_passages), dtype=np.int64)
    a, b = _permutations()
    # uint32 arithmetic wraps around: the mod 2**32 of the permutations.
    permuted = _word_hashes(vocabulary)[:, None] * a + b
    starts = np.concatenate(([0], np.cumsum(sizes)))
    out = np.empty((len(sizes), NUM_PERM), dtype=np.uint32)
    first = 0
    while first < len(sizes):
        # Whole passages, about _MINHASH_CHUNK_WORDS entries at a time (at least one).
        last = max(
            first + 1,
            int(np.searchsorted(starts, starts[first] + _MINHASH_CHUNK_WORDS, "right")) - 1,
        )
        last = min(last, len(sizes))
        rows = permuted[entries[starts[first] : starts[last]]]
        out[first:last] = np.minimum.reduceat(rows, starts[first:last] - starts[first], axis=0)
        first = last
    return out


def band_key_matrices(documents: Sequence[Sequence[frozenset[str]]]) -> list[np.ndarray]:
    """band_key_matrix of several documents at once (their words hashed once)."""
    flat = [words for document in documents for words in document]
    if not flat:
        return [np.empty((0, BANDS), dtype=np.int64) for _ in documents]
    values = _signatures(flat).astype(np.uint64)
    # numpy's unsigned arithmetic wraps around, which is what a hash wants.
    keys = (values.reshape(len(flat), BANDS, ROWS) * _ROW_MULTIPLIERS).sum(axis=2, dtype=np.uint64)
    keys ^= keys >> np.uint64(30)
    keys *= _MIX_1
    keys ^= keys >> np.uint64(27)
    keys *= _MIX_2
    keys ^= keys >> np.uint64(31)
    signed = keys.view(np.int64)
    bounds = np.cumsum([len(document) for document in documents])[:-1]
    return np.split(signed, bounds)


def band_key_matrix(document_passages: Sequence[frozenset[str]]) -> np.ndarray:
    """For each passage (row), BANDS signed 64-bit keys (columns): two passages sharing a
    key in the same band are LSH candidates (likely Jaccard >= about PASSAGE_JACCARD)."""
    return band_key_matrices([document_passages])[0]


def band_keys(document_passages: Sequence[frozenset[str]]) -> list[list[int]]:
    """band_key_matrix as Python lists."""
    return band_key_matrix(document_passages).tolist()


@dataclass(frozen=True)
class PairScore:
    """How much of two documents is the same text, passage by passage."""

    passages: int
    other_passages: int
    # Passages of each document with a near-copy (Jaccard >= PASSAGE_JACCARD) in the other.
    shared: int
    other_shared: int

    @property
    def shared_passages(self) -> int:
        return min(self.shared, self.other_shared)

    @property
    def overlap(self) -> float:
        """The larger of the two documents' shares of shared passages (0 to 1)."""
        shares = [
            shared / total
            for shared, total in (
                (self.shared, self.passages),
                (self.other_shared, self.other_passages),
            )
            if total
        ]
        return max(shares, default=0.0)

    @property
    def same_story(self) -> bool:
        return (
            self.shared_passages >= SAME_STORY_MIN_PASSAGES and self.overlap >= SAME_STORY_OVERLAP
        )


@dataclass(frozen=True)
class NumberedPassages:
    """A document's passages as arrays of word numbers, ready for score_against: every
    (word, passage) entry sorted by word, and the number of words of each passage."""

    words: np.ndarray  # int64, sorted
    passage: np.ndarray  # int64, the passage of each entry of `words`
    sizes: np.ndarray  # int64, one per passage

    @property
    def count(self) -> int:
        return len(self.sizes)


def numbered(document_passages: Sequence[Collection[int]]) -> NumberedPassages:
    """A document's passages, each a collection of distinct word numbers, as arrays."""
    sizes = np.fromiter((len(words) for words in document_passages), dtype=np.int64)
    words = np.fromiter((w for words in document_passages for w in words), dtype=np.int64)
    passage = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    order = np.argsort(words, kind="stable")
    return NumberedPassages(words[order], passage[order], sizes)


def score_against(a: NumberedPassages, others: Sequence[NumberedPassages]) -> list[PairScore]:
    """score_pair of one document against each of several, given as arrays, in one pass:
    for every passage pair, the words the two passages have in common are counted from
    the (word, passage) entries the documents share."""
    k = len(others)
    if k == 0:
        return []
    counts = np.array([o.count for o in others], dtype=np.int64)
    words_b = np.concatenate([o.words for o in others])
    sizes_b = np.concatenate([o.sizes for o in others])
    # The partners' passages numbered one after another: partner p's passage j is
    # first_b[p] + j, and passage_owner tells the partner of each.
    first_b = np.concatenate(([0], np.cumsum(counts)[:-1]))
    passage_owner = np.repeat(np.arange(k), counts)
    owner = np.repeat(np.arange(k), [len(o.words) for o in others])
    passage_b = first_b[owner] + np.concatenate([o.passage for o in others])
    # Entries keyed by (partner, word): sorted, as each partner's words are.
    span = int(max(words_b.max(initial=-1), a.words.max(initial=-1))) + 1
    keys_b = owner * span + words_b
    keys_a = (np.arange(k)[:, None] * span + a.words[None, :]).ravel()
    lo = np.searchsorted(keys_b, keys_a, "left")
    matches = np.searchsorted(keys_b, keys_a, "right") - lo
    total = int(matches.sum())
    shared_a = shared_b = np.zeros(k, dtype=np.int64)
    if total:
        ends = np.cumsum(matches)
        # Entry t of the join pairs a's entry repeated there with b's entry at
        # lo + (t - the first t of that a entry).
        in_b = np.arange(total) + np.repeat(lo - (ends - matches), matches)
        cells = passage_b[in_b] * a.count + np.repeat(np.tile(a.passage, k), matches)
        common = np.bincount(cells, minlength=len(sizes_b) * a.count)
        found = np.flatnonzero(common)
        column, row = np.divmod(found, a.count)
        both = common[found]
        # |a & b| / |a | b|, the Jaccard of the two word sets.
        near = both / (a.sizes[row] + sizes_b[column] - both) >= PASSAGE_JACCARD
        shared_b = np.bincount(passage_owner[np.unique(column[near])], minlength=k)
        near_rows = np.unique(passage_owner[column[near]] * a.count + row[near])
        shared_a = np.bincount(near_rows // a.count, minlength=k)
    return [
        PairScore(a.count, int(counts[p]), int(shared_a[p]), int(shared_b[p])) for p in range(k)
    ]


def score_pair(a: Sequence[Collection[Word]], b: Sequence[Collection[Word]]) -> PairScore:
    """Compare every passage of one document with every passage of the other (exact, so
    the decision never depends on which LSH bands happened to collide). A passage is a
    collection of distinct words, or of distinct word numbers."""
    vocabulary: dict[Word, int] = {}

    def numbers(document: Sequence[Collection[Word]]) -> NumberedPassages:
        return numbered(
            [[vocabulary.setdefault(w, len(vocabulary)) for w in words] for words in document]
        )

    return score_against(numbers(a), [numbers(b)])[0]


def group_stories(doc_ids: Iterable[str], links: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The story of each document: documents linked directly or through others form one
    story, named by its smallest doc_id (stable while the group keeps that member)."""
    parent = {doc_id: doc_id for doc_id in doc_ids}

    def root(doc_id: str) -> str:
        while parent[doc_id] != doc_id:
            parent[doc_id] = parent[parent[doc_id]]
            doc_id = parent[doc_id]
        return doc_id

    for a, b in links:
        if a not in parent or b not in parent:
            continue
        ra, rb = root(a), root(b)
        if ra != rb:
            # The smaller id becomes the root, so a story's root is its smallest member.
            parent[max(ra, rb)] = min(ra, rb)
    return {doc_id: root(doc_id) for doc_id in parent}


def compare_all(texts: Mapping[str, str]) -> dict[tuple[str, str], PairScore]:
    """Every pair of documents scored, without LSH: for small sets, tests and for
    explaining a threshold (the pipeline only scores LSH candidates)."""
    split = {doc_id: passages(text) for doc_id, text in texts.items()}
    ids = sorted(split)
    return {(a, b): score_pair(split[a], split[b]) for i, a in enumerate(ids) for b in ids[i + 1 :]}
