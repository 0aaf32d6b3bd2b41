"""The child of the crash test: autosaves and finalises until killed, acknowledging each commit.

`work` writes `ACK save REF VERSION REVISION` or `ACK final REF VERSION` only after the service
call (and so its COMMIT) returned. The test forks and runs it; `python -m tests.crash_child DB RUN`
runs it by hand.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import TextIO

from instrument.assessment import Assessor, Rating
from instrument.definitions import current_instrument
from tests.judgement_support import minimal_judgement
from tests.store_support import PASSWORD, open_service


def work(db: Path, run: int, out: TextIO) -> None:
    """Autosave and finalise cases until killed, writing an `ACK` line after each commit."""
    service = open_service(db)
    actor = service.session_actor(service.sign_in("pat", PASSWORD))
    assert actor is not None
    service.confirm_password(actor, PASSWORD)
    instrument = current_instrument()
    rng = random.Random(run)
    number = 0
    while True:
        reference = f"K{run}-{number}"
        number += 1
        service.create_case(actor, reference, "engaged")
        draft = service.start_assessment(actor, reference)
        draft = service.save_details(
            actor,
            reference,
            1,
            assessed_on=None,
            assessors=[Assessor(name="A. Assessor", role="psychologist")],
            notes=None,
            base_revision=draft.revision,
        )
        import datetime as dt

        draft = service.save_details(
            actor,
            reference,
            1,
            assessed_on=dt.date(2026, 11, 1),
            assessors=[Assessor(name="A. Assessor", role="psychologist")],
            notes=None,
            base_revision=draft.revision,
            provisional_reason="Fictional: random ratings may omit most main drivers.",
        )
        for item in instrument.items:
            presence = rng.choice(["no", "partial", "yes", "omit"])
            rating = Rating(
                presence=presence,
                relevance="high" if presence in ("partial", "yes") else None,
                evidence="Fictional evidence.",
                sources=["interview"] if presence in ("partial", "yes") else [],
                omit_reason="not-asked" if presence == "omit" else None,
            )
            draft = service.save_rating(
                actor, reference, 1, item.id, rating, base_revision=draft.revision
            )
            out.write(f"ACK save {reference} 1 {draft.revision}\n")
        # The judgement a 1.1 draft needs to finalise, saved part by part (one commit each).
        for part, value in minimal_judgement(instrument.items[0].id).items():
            draft = service.save_judgement(
                actor, reference, 1, part, value, base_revision=draft.revision
            )
            out.write(f"ACK save {reference} 1 {draft.revision}\n")
        service.finalise(actor, reference, 1)
        out.write(f"ACK final {reference} 1\n")


if __name__ == "__main__":
    work(Path(sys.argv[1]), int(sys.argv[2]), sys.stdout)
