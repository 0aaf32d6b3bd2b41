"""How sensitive an area's band is to its ratings: `band_range` and `what_would_change` (1.1 on).

`band_range` gives the lowest and highest band the area could take if its omitted or unrated items
were rated (all `no`, or all `yes` with high relevance). `what_would_change` gives the smallest sets
of single-item rating changes that would move the band one step up or down. Both only re-apply the
rule to changed ratings: they never score a person, and they read no file and no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import NamedTuple

from instrument.assessment import Rating
from instrument.definition import Instrument, Item
from instrument.priorities import AreaScore, RuleTables, score_with
from instrument.vocabulary import Band, Presence, Relevance

# The ladder of need a step moves along: insufficient-information sits with low (an omitted item
# rated present can only raise it; rated `no`, it settles as low).
_LADDER = {
    Band.LOW: 0,
    Band.INSUFFICIENT_INFORMATION: 0,
    Band.MODERATE: 1,
    Band.HIGH: 2,
}
_PRESENT = (Presence.PARTIAL, Presence.YES)


class Step(NamedTuple):
    """One single-item rating change: from its rating now (None when unrated) to another."""

    item: Item
    before: Rating | None
    after: Rating


class Move(NamedTuple):
    """A smallest set of single-item changes and the band the area would then take."""

    steps: tuple[Step, ...]
    band: Band


def levels(instrument: Instrument) -> list[tuple[Presence, Relevance]]:
    """Return every present rating, from the least to the most the rule counts."""
    rule = instrument.rule
    pairs = [(p, r) for p in _PRESENT for r in Relevance]
    return sorted(
        pairs,
        key=lambda pair: (
            rule.presence_values[pair[0]] * rule.relevance_values[pair[1]],
            list(Presence).index(pair[0]),
        ),
    )


def _value(instrument: Instrument, rating: Rating | None) -> float:
    if rating is None or rating.presence not in _PRESENT or rating.relevance is None:
        return 0.0
    rule = instrument.rule
    return rule.presence_values[rating.presence] * rule.relevance_values[rating.relevance]


def band_range(
    instrument: Instrument,
    ratings: Mapping[str, Rating],
    area_id: str,
    score: AreaScore,
    tables: RuleTables,
) -> tuple[Band, Band]:
    """Return the lowest and highest band the area's omitted or unrated items could move it to."""
    if not score.omitted:
        return score.band, score.band
    low = dict(ratings)
    high = dict(ratings)
    for item_id in score.omitted:
        low[item_id] = Rating(presence=Presence.NO)
        high[item_id] = Rating(presence=Presence.YES, relevance=Relevance.HIGH)
    lowest = score_with(instrument, low, area_id, tables).band
    highest = score_with(instrument, high, area_id, tables).band
    return lowest, highest


def _moved(before: Band, after: Band, up: bool) -> bool:
    if up:
        return _LADDER[after] > _LADDER[before]
    if before is Band.INSUFFICIENT_INFORMATION:
        return after is Band.LOW
    return _LADDER[after] < _LADDER[before]


def what_would_change(
    instrument: Instrument,
    ratings: Mapping[str, Rating],
    area_id: str,
    score: AreaScore,
    tables: RuleTables,
    *,
    limit: int,
) -> tuple[list[Move], list[Move]]:
    """Return (up, down): the smallest sets of single-item changes moving the band one step.

    Up to `limit` sets each way. A set of one item gives the least change that is enough; a set of
    several gives each item its furthest change (`yes` with high relevance up, `no` down), and no
    smaller set would do. Empty when no change of the area's items moves the band that way.
    """
    items = [item for item, _ in instrument.area_items(area_id)]
    return (
        _search(instrument, ratings, area_id, score, tables, items, limit, up=True),
        _search(instrument, ratings, area_id, score, tables, items, limit, up=False),
    )


def _candidates(
    instrument: Instrument, item: Item, rating: Rating | None, up: bool
) -> list[Rating]:
    """Return the ratings an item could change to, nearest first, in one direction."""
    now = _value(instrument, rating)
    unrated = rating is None or rating.presence is Presence.OMIT
    if up:
        return [
            Rating(presence=p, relevance=r)
            for p, r in levels(instrument)
            if instrument.rule.presence_values[p] * instrument.rule.relevance_values[r] > now
        ]
    lower = [
        Rating(presence=p, relevance=r)
        for p, r in reversed(levels(instrument))
        if instrument.rule.presence_values[p] * instrument.rule.relevance_values[r] < now
    ]
    if now > 0 or unrated:
        lower.append(Rating(presence=Presence.NO))
    return lower


def _search(
    instrument: Instrument,
    ratings: Mapping[str, Rating],
    area_id: str,
    score: AreaScore,
    tables: RuleTables,
    items: list[Item],
    limit: int,
    *,
    up: bool,
) -> list[Move]:
    before = score.band
    if (up and before is Band.HIGH) or (not up and before is Band.LOW):
        return []
    options = {item.id: _candidates(instrument, item, ratings.get(item.id), up) for item in items}
    movable = [item for item in items if options[item.id]]
    found: list[Move] = []
    for size in range(1, len(movable) + 1):
        for group in combinations(movable, size):
            move = _try(instrument, ratings, area_id, tables, group, options, before, up)
            if move is not None:
                found.append(move)
                if len(found) == limit:
                    return found
        if found:
            return found
    return found


def _try(
    instrument: Instrument,
    ratings: Mapping[str, Rating],
    area_id: str,
    tables: RuleTables,
    group: tuple[Item, ...],
    options: Mapping[str, list[Rating]],
    before: Band,
    up: bool,
) -> Move | None:
    changed = dict(ratings)
    if len(group) == 1:
        item = group[0]
        for candidate in options[item.id]:
            changed[item.id] = candidate
            band = score_with(instrument, changed, area_id, tables).band
            if _moved(before, band, up):
                return Move((Step(item, ratings.get(item.id), candidate),), band)
        return None
    steps = []
    for item in group:
        furthest = options[item.id][-1]
        changed[item.id] = furthest
        steps.append(Step(item, ratings.get(item.id), furthest))
    band = score_with(instrument, changed, area_id, tables).band
    return Move(tuple(steps), band) if _moved(before, band, up) else None
