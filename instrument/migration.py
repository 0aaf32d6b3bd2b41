"""Upgrading an assessment to a later instrument version, as the later definition declares.

A definition lists `migrations`: for each earlier version, the items renamed, split and new. An
upgrade moves every rating to its new id (a split copies the rating to each new item), leaves new
items unrated, and records in `assessment.upgraded_from` what the assessor must rate or check. The
result is always a draft; the earlier assessment is never changed. Pure: no file, no clock.
"""

from __future__ import annotations

from instrument.assessment import Assessment, InstrumentRef, Rating, UpgradeRecord, check_assessment
from instrument.definition import Instrument, Migration
from instrument.errors import DocumentError, Problem
from instrument.judgement import Judgement
from instrument.vocabulary import AssessmentStatus


def can_upgrade(target: Instrument, assessment: Assessment) -> bool:
    """Return True when `target` declares a migration from the assessment's version."""
    ref = assessment.instrument
    return ref.id == target.id and target.migration_from(ref.version) is not None


def upgrade_assessment(target: Instrument, assessment: Assessment) -> Assessment:
    """Return the assessment as a draft of `target`, by the migration `target` declares.

    The caller has checked the assessment against its own version. Version number, case, dates,
    assessors, evidence and responsivity notes are kept; the status becomes `draft`.

    Raises:
        DocumentError: when `target` declares no migration from the assessment's version, or an
            item of the assessment has no place in `target`.
    """
    ref = assessment.instrument
    if (ref.id, ref.version) == target.key:
        raise DocumentError(
            [
                Problem(
                    "$.instrument",
                    f"the assessment already uses {target.id} {target.version}",
                    "nothing to upgrade; formulate it as it is",
                )
            ]
        )
    migration = target.migration_from(ref.version) if ref.id == target.id else None
    if migration is None:
        declared = ", ".join(m.from_version for m in target.migrations) or "none"
        raise DocumentError(
            [
                Problem(
                    "$.instrument",
                    f"{target.id} {target.version} declares no migration from "
                    f"{ref.id} {ref.version} (it declares: {declared})",
                    "upgrade with a definition that declares this migration",
                )
            ]
        )
    ratings: dict[str, Rating] = {}
    problems = []
    carried_split: list[str] = []
    for item_id, rating in assessment.ratings.items():
        if item_id in migration.split:
            for new_id in migration.split[item_id]:
                ratings[new_id] = rating
                carried_split.append(new_id)
            continue
        new_id = migration.renamed.get(item_id, item_id)
        if new_id not in target.item_by_id:
            problems.append(
                Problem(
                    f"$.ratings.{item_id}",
                    f"{item_id} has no place in {target.id} {target.version}",
                    "declare it as renamed or split in the migration",
                )
            )
            continue
        ratings[new_id] = rating
    if problems:
        raise DocumentError(problems)
    order = {item.id: index for index, item in enumerate(target.items)}
    ordered = {key: ratings[key] for key in sorted(ratings, key=order.__getitem__)}
    review = [
        item.id
        for item in target.items
        if item.id in ordered and (item.id in carried_split or item.id in migration.review)
    ]
    record = UpgradeRecord(
        from_version=ref.version,
        new_items=[i for i in migration.new if i not in ordered],
        review_items=review,
        note=migration.note.strip(),
    )
    info = assessment.assessment.model_copy(
        update={"status": AssessmentStatus.DRAFT, "upgraded_from": record}
    )
    upgraded = assessment.model_copy(
        update={
            "instrument": InstrumentRef(id=target.id, version=target.version),
            "assessment": info,
            "ratings": ordered,
            "judgement": _moved_judgement(assessment.judgement, migration),
        }
    )
    problems = check_assessment(target, upgraded)
    if problems:
        raise DocumentError(problems)
    return upgraded


def _moved_judgement(judgement: Judgement | None, migration: Migration) -> Judgement | None:
    """Return the judgement with its item ids moved as the ratings are (None stays None).

    A renamed item keeps its placement and its scenario links under the new id; a split item
    passes both to each item it became.
    """
    if judgement is None:
        return None

    def moved(item_id: str) -> list[str]:
        return list(migration.split.get(item_id) or [migration.renamed.get(item_id, item_id)])

    update: dict[str, object] = {
        "scenarios": [
            scenario.model_copy(
                update={
                    "items": list(
                        dict.fromkeys(new for old in scenario.items for new in moved(old))
                    )
                }
            )
            for scenario in judgement.scenarios
        ]
    }
    if judgement.five_p is not None:
        placements = {
            new: heading
            for old, heading in judgement.five_p.placements.items()
            for new in moved(old)
        }
        update["five_p"] = judgement.five_p.model_copy(update={"placements": placements})
    return judgement.model_copy(update=update)
