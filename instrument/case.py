"""The case export document: a case with every assessment version, review and formulation.

The model of `schemas/case.schema.json` (pure data, like the assessment and the formulation);
reading and writing it as a file is `instrument.exchange.case`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from instrument.assessment import Assessment, CaseInfo
from instrument.formulation import Formulation, Review
from instrument.vocabulary import ShortText

FORMAT = "instrument-case"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignatureRecord(_Frozen):
    """A signature on a final version: its meaning, who signed, and when."""

    meaning: Literal["finalised by", "countersigned by"] = Field(
        description="What the signature means: `finalised by` or `countersigned by`."
    )
    by: ShortText = Field(description="The signer's username.")
    at: dt.datetime = Field(description="When it was signed (UTC, ISO 8601).")


class VersionRecord(_Frozen):
    """One assessment version of the case, with its review and, when final, its formulation."""

    assessment: Assessment = Field(description="The assessment document of this version.")
    review: Review = Field(
        default_factory=Review, description="The assessor's overrides and narratives."
    )
    formulation: Formulation | None = Field(
        default=None, description="The stored formulation (final versions only)."
    )
    signatures: list[SignatureRecord] = Field(
        default_factory=list, description="The signatures (final versions only)."
    )


class CaseExport(_Frozen):
    """A whole case: every assessment version with its review, formulation and signatures."""

    format: Literal["instrument-case"] = Field(description="Always `instrument-case`.")
    case: CaseInfo = Field(description="The case reference and pathway.")
    versions: list[VersionRecord] = Field(
        max_length=1000, description="Every version, oldest first, numbered from 1."
    )


DESCRIPTION = (
    "A case as `instrument export` writes it: the case reference and pathway, and every "
    "assessment version (drafts and finals, oldest first) with the assessor's review; each "
    "final version carries the formulation stored when it was signed and its signatures. "
    "`instrument import` reads it back into a team where the reference is new."
)
