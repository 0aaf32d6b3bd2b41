"""Intervention formulation instrument: a structured professional judgement aid.

The public names of the package. The core (definition, assessment, formulation, priorities,
profile, access, audit) is pure; adapters and entry points live beside it.
"""

from importlib.metadata import version as _version

from instrument.assessment import Assessment, Rating, check_assessment, finalisation_problems
from instrument.definition import Instrument, check_definition
from instrument.errors import (
    AuthenticationError,
    ConflictError,
    DefinitionError,
    DocumentError,
    InstrumentError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
    StoreError,
)
from instrument.formulation import Formulation, Review, formulate, formulation_json, redact

__version__ = _version("instrument")

__all__ = [
    "Assessment",
    "AuthenticationError",
    "ConflictError",
    "DefinitionError",
    "DocumentError",
    "Formulation",
    "Instrument",
    "InstrumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "Problem",
    "Rating",
    "Review",
    "StoreError",
    "__version__",
    "check_assessment",
    "check_definition",
    "finalisation_problems",
    "formulate",
    "formulation_json",
    "redact",
]
