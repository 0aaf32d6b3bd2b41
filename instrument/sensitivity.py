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
from instrument.priorities import AreaScore, RuleTables, band_with
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
    low = dict.fromkeys(score.omitted, Rating(presence=Presence.NO))
    high = dict.fromkeys(score.omitted, Rating(presence=Presence.YES, relevance=Relevance.HIGH))
    return band_with(tables, area_id, ratings, low), band_with(tables, area_id, ratings, high)


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
    ladder = _ladder(instrument)
    return (
        _search(ladder, ratings, area_id, score, tables, items, limit, up=True),
        _search(ladder, ratings, area_id, score, tables, items, limit, up=False),
    )


def _ladder(instrument: Instrument) -> list[tuple[float, Rating]]:
    """Return every present rating with the value the rule gives it, least first."""
    rule = instrument.rule
    return [
        (rule.presence_values[p] * rule.relevance_values[r], Rating(presence=p, relevance=r))
        for p, r in levels(instrument)
    ]


_NO_RATING = Rating(presence=Presence.NO)


def _candidates(
    ladder: list[tuple[float, Rating]], rating: Rating | None, up: bool
) -> list[Rating]:
    """Return the ratings an item could change to, nearest first, in one direction."""
    now = 0.0
    if rating is not None and rating.presence in _PRESENT and rating.relevance is not None:
        key = (rating.presence, rating.relevance)
        now = next(v for v, r in ladder if (r.presence, r.relevance) == key)
    unrated = rating is None or rating.presence is Presence.OMIT
    if up:
        return [r for v, r in ladder if v > now]
    lower = [r for v, r in reversed(ladder) if v < now]
    if now > 0 or unrated:
        lower.append(_NO_RATING)
    return lower


def _search(
    ladder: list[tuple[float, Rating]],
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
    options = {item.id: _candidates(ladder, ratings.get(item.id), up) for item in items}
    movable = [item for item in items if options[item.id]]
    found: list[Move] = []
    for size in range(1, len(movable) + 1):
        for group in combinations(movable, size):
            move = _try(ratings, area_id, tables, group, options, before, up)
            if move is not None:
                found.append(move)
                if len(found) == limit:
                    return found
        if found:
            return found
    return found


def _try(
    ratings: Mapping[str, Rating],
    area_id: str,
    tables: RuleTables,
    group: tuple[Item, ...],
    options: Mapping[str, list[Rating]],
    before: Band,
    up: bool,
) -> Move | None:
    if len(group) == 1:
        item = group[0]
        for candidate in options[item.id]:
            band = band_with(tables, area_id, ratings, {item.id: candidate})
            if _moved(before, band, up):
                return Move((Step(item, ratings.get(item.id), candidate),), band)
        return None
    changed = {item.id: options[item.id][-1] for item in group}
    band = band_with(tables, area_id, ratings, changed)
    if not _moved(before, band, up):
        return None
    return Move(tuple(Step(i, ratings.get(i.id), changed[i.id]) for i in group), band)
