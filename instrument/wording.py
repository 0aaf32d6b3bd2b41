"""The generated sentences of 1.1 formulations, in one place.

Each item of a 1.1 definition carries a `phrase` that reads correctly inside a sentence with its
subject ("a group's influence and control over the participant"), so no sentence glues "the
participant's" onto a factor's name. A `partial` rating is worded as partial ("some signs of …",
or the item's own `phrase_partial`), never asserted as fact. Every sentence speaks of "the
participant", never labels a person, and never predicts behaviour. (1.0 formulations keep their
wording, in `instrument.priorities`, so that they regenerate exactly.)
"""

from __future__ import annotations

from collections.abc import Sequence

from instrument.assessment import Rating
from instrument.definition import Item
from instrument.priorities import RankedArea, factor_name, join, plural
from instrument.vocabulary import Band, Presence

_OFFERED_BANDS = (Band.HIGH, Band.MODERATE)
_NAMED = 3


def describe(item: Item, rating: Rating) -> str:
    """Return the factor as rated, partial worded as partial, e.g. `some signs of X`."""
    phrase = item.phrase or factor_name(item)
    if rating.presence is Presence.PARTIAL:
        return item.phrase_partial or f"some signs of {phrase}"
    return phrase


def rated_phrase(item: Item, rating: Rating) -> str:
    """Return the factor as rated with its rating, e.g. `X (GA2, yes, high relevance)`."""
    text = describe(item, rating)
    if rating.relevance is None:
        return f"{text} ({item.id}, {rating.presence})"
    return f"{text} ({item.id}, {rating.presence}, {rating.relevance} relevance)"


def rating_words(presence: Presence | None, relevance: object | None) -> str:
    """Return a rating in words: `not rated`, `omit`, `no`, `yes with high relevance`."""
    if presence is None:
        return "not rated"
    if relevance is None:
        return str(presence)
    return f"{presence} with {relevance} relevance"


def priority_sentences(
    ranked: RankedArea, phrases: dict[str, str], *, withdrawn: bool = False
) -> str:
    """Return the reasons for an area's band: drivers, omissions, strengths, override."""
    score = ranked.score
    listed = [phrases[c.item.id] for c in score.contributions]
    sentences = []
    band = score.band
    if band in _OFFERED_BANDS:
        if len(listed) > _NAMED:
            others = len(listed) - _NAMED
            sentences.append(
                f"Rated {band} mainly because of {join(listed[:_NAMED])}; "
                f"{plural(others, 'other rated factor')} add{'s' if others == 1 else ''} to it."
            )
        else:
            sentences.append(f"Rated {band} because of {join(listed)}.")
    elif band is Band.INSUFFICIENT_INFORMATION:
        missing = len(score.omitted)
        share = "all" if missing == score.item_count else f"{missing} of the"
        sentences.append(
            f"Not enough information to set a band: {share} {score.item_count} factors behind "
            f"this area are omitted or not rated ({', '.join(score.omitted)})."
        )
        if listed:
            sentences.append(f"Rated present so far: {join(listed)}.")
    elif listed:
        verb = "is" if len(listed) == 1 else "are"
        sentences.append(f"Rated low: only {join(listed)} {verb} rated present in this area.")
    else:
        sentences.append("Rated low: none of the factors behind this area is rated present.")
    if score.omitted and band is not Band.INSUFFICIENT_INFORMATION:
        verb = "is" if len(score.omitted) == 1 else "are"
        sentences.append(
            f"{join(list(score.omitted))} {verb} omitted or not rated, so the band may "
            "understate this area."
        )
    if score.strengths:
        strengths = [phrases[item.id] for item, _ in score.strengths]
        sentences.append(f"Strengths to build on: {join(strengths)}.")
    if ranked.overridden:
        sentences.append(
            f"The assessor set the band to {ranked.band} (computed from the ratings: {band})."
        )
    if withdrawn:
        sentences.append("The assessor withdrew this area from the offer, with a rationale.")
    return " ".join(sentences)


def move_sentence(direction: str, band: Band, alternatives: Sequence[Sequence[str]]) -> str:
    """Return `It would move up to high if A; or if B.` from each alternative's changes."""
    options = "; or if ".join(join(list(changes)) for changes in alternatives)
    return f"It would move {direction} to {band} if {options}."
