"""The shared vocabulary of the instrument: scales, pathways, roles and id patterns.

Every value here is spelled exactly as INSTRUMENT.md spells it, because the interchange documents,
the formulation and the tests all refer to these strings.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints


class Presence(StrEnum):
    """Whether a factor is present; `omit` means there was not enough information to rate it."""

    NO = "no"
    PARTIAL = "partial"
    YES = "yes"
    OMIT = "omit"


class Relevance(StrEnum):
    """How relevant a present factor is to the participant's involvement, and so to intervention."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class Source(StrEnum):
    """Where the evidence for a rating came from."""

    INTERVIEW = "interview"
    FILE_REVIEW = "file-review"
    COLLATERAL = "collateral"
    OBSERVATION = "observation"
    SELF_REPORT = "self-report"
    OTHER = "other"


class Timeframe(StrEnum):
    """Whether the evidence describes the participant now or in the past."""

    CURRENT = "current"
    HISTORICAL = "historical"


class Pathway(StrEnum):
    """The referral pathway of a case."""

    PREVENTION = "prevention"
    ENGAGED = "engaged"
    CONVICTED = "convicted"


class ResponsivityPresence(StrEnum):
    """Whether a responsivity consideration applies to the participant."""

    NO = "no"
    YES = "yes"
    OMIT = "omit"


class OmitReason(StrEnum):
    """Why an item was omitted (1.1 on): `other` needs its text in the rating's evidence."""

    NOT_ASKED = "not-asked"
    DECLINED = "declined"
    NO_RECORDS = "no-records"
    CONFLICTING_INFORMATION = "conflicting-information"
    OTHER = "other"


class Good(StrEnum):
    """The Good Lives goods: what people seek in life, which an intervention helps meet lawfully."""

    LIFE = "life"
    KNOWLEDGE = "knowledge"
    PLAY = "play"
    WORK = "work"
    AGENCY = "agency"
    INNER_PEACE = "inner-peace"
    RELATEDNESS = "relatedness"
    COMMUNITY = "community"
    SPIRITUALITY = "spirituality"
    PLEASURE = "pleasure"
    CREATIVITY = "creativity"


class FiveP(StrEnum):
    """The five headings of a 5P case formulation; each rated item belongs to one."""

    PRESENTING = "presenting"
    PREDISPOSING = "predisposing"
    PRECIPITATING = "precipitating"
    PERPETUATING = "perpetuating"
    PROTECTIVE = "protective"


class ItemKind(StrEnum):
    """What a domain's items do in the formulation.

    `risk` items can drive an intervention area; `protective` items are strengths and never raise a
    priority; `capability` items raise urgency and appear in risk management notes only; `intent`
    items (intent and action, from 1.1) never enter a priority either: they raise the escalation
    prompt.
    """

    RISK = "risk"
    PROTECTIVE = "protective"
    CAPABILITY = "capability"
    INTENT = "intent"


class SpjDomain(StrEnum):
    """The three classic structured professional judgement domains an item informs."""

    ENGAGEMENT = "engagement"
    INTENT = "intent"
    CAPABILITY = "capability"


class Band(StrEnum):
    """The priority band of an intervention area."""

    HIGH = "high"
    MODERATE = "moderate"
    LOW = "low"
    INSUFFICIENT_INFORMATION = "insufficient-information"


class AssessmentStatus(StrEnum):
    """The life-cycle state of an assessment version."""

    DRAFT = "draft"
    FINAL = "final"


class AssessorRole(StrEnum):
    """The professional role of an assessor named on an assessment."""

    PSYCHOLOGIST = "psychologist"
    SUPERVISOR = "supervisor"
    CO_ASSESSOR = "co-assessor"
    OTHER = "other"


# The order in which bands count when priorities are ranked: a larger number comes first.
# `insufficient-information` ranks above `low`: the area needs attention, if only to gather facts.
BAND_ORDER: dict[Band, int] = {
    Band.HIGH: 3,
    Band.MODERATE: 2,
    Band.INSUFFICIENT_INFORMATION: 1,
    Band.LOW: 0,
}

ITEM_ID_PATTERN = r"^[A-Z]{2}[0-9]{1,2}$"
AREA_ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
# A session of the catalogue: `<area-id>.<n>` or `foundation.<n>`, e.g. `identity.1`.
SESSION_ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*\.[1-9][0-9]?$"
CASE_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$"
VERSION_PATTERN = r"^[0-9]+\.[0-9]+\.[0-9]+$"

ItemId = Annotated[str, StringConstraints(pattern=ITEM_ID_PATTERN)]
AreaId = Annotated[str, StringConstraints(pattern=AREA_ID_PATTERN)]
CaseReference = Annotated[str, StringConstraints(pattern=CASE_REFERENCE_PATTERN)]
SemanticVersion = Annotated[str, StringConstraints(pattern=VERSION_PATTERN)]
SessionId = Annotated[str, StringConstraints(pattern=SESSION_ID_PATTERN)]

# Longest free text accepted anywhere (SECURITY.md 18).
MAX_TEXT = 20_000
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
