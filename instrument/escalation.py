"""The escalation prompt (1.1 on): when the ratings call for the assessor's judgement now.

The definition says when (`escalation:` in the YAML): by default when an intent-and-action item is
rated `yes` (or `partial` with high relevance), or when beliefs that harm is necessary or entitled
(BE4, BE5, BE6 `yes`) coincide with capability (CA1 or CA2 `yes`). The result names the items and
carries the prompt text. It is a prompt for judgement and for the local safeguarding or referral
procedure, never a score and never a prediction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from instrument.assessment import Rating
from instrument.definition import EscalationCondition, Instrument, ItemTest
from instrument.vocabulary import Presence


class RaisedBy(NamedTuple):
    """One condition that holds, with the items that make it hold, in definition order."""

    condition: EscalationCondition
    items: tuple[str, ...]


class EscalationResult(NamedTuple):
    """Whether the prompt is raised, why, and which of its items could not be judged."""

    raised_by: tuple[RaisedBy, ...]
    unknown: tuple[str, ...]

    @property
    def raised(self) -> bool:
        """Return True when any condition holds."""
        return bool(self.raised_by)


def _matches(test: ItemTest, ratings: Mapping[str, Rating]) -> list[str]:
    found = []
    for item_id in test.items:
        rating = ratings.get(item_id)
        if rating is None or rating.presence not in test.presence:
            continue
        if test.relevance is not None and rating.relevance not in test.relevance:
            continue
        found.append(item_id)
    return found


def evaluate(instrument: Instrument, ratings: Mapping[str, Rating]) -> EscalationResult | None:
    """Return the escalation result for the ratings, or None when the definition has none."""
    escalation = instrument.escalation
    if escalation is None:
        return None
    order = {item.id: index for index, item in enumerate(instrument.items)}
    raised = []
    for condition in escalation.any_of:
        matched = [_matches(test, ratings) for test in condition.all_of]
        if all(matched):
            items = sorted({i for found in matched for i in found}, key=order.__getitem__)
            raised.append(RaisedBy(condition, tuple(items)))
    named = {i for c in escalation.any_of for test in c.all_of for i in test.items}
    unknown = tuple(
        item.id
        for item in instrument.items
        if item.id in named and ((r := ratings.get(item.id)) is None or r.presence is Presence.OMIT)
    )
    return EscalationResult(tuple(raised), unknown)
