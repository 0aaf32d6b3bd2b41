"""Kept renderings: the reports and charts of final formulations, read through the access checks.

A final formulation never changes, so the report drawn from it the first time can be kept in the
database and handed out again (`make bench`: a kept HTML report takes a few milliseconds, a
drawn one several hundred). The key is the hash of the formulation as the actor was shown it
(full, or redacted for a viewer) and of the renderer (`report.renderer_fingerprint()`), so a
changed template or renderer draws anew, and a viewer's kept report is never a full one. Only a
caller that already holds the formulation (from `export_formulation`: access check, password,
audit entry) can name its key. Drafts are never kept: they change, and they are formulated anew
on each request. Nothing is kept in the process (SECURITY.md 13).
"""

from __future__ import annotations

import hashlib

from instrument.errors import StoreError
from instrument.formulation import Formulation, formulation_json
from instrument.service.base import ServiceBase
from instrument.vocabulary import AssessmentStatus


def rendering_key(formulation: Formulation, renderer: str) -> str:
    """Return the key of a formulation's renderings: sha256 of the renderer and the document."""
    digest = hashlib.sha256(renderer.encode("utf-8") + b"\n")
    digest.update(formulation_json(formulation).encode("utf-8"))
    return digest.hexdigest()


def _keepable(formulation: Formulation) -> bool:
    return formulation.header.status is AssessmentStatus.FINAL


class RenderedService(ServiceBase):
    """The kept renderings of final formulations."""

    def kept_rendering(self, formulation: Formulation, kind: str, renderer: str) -> bytes | None:
        """Return the kept `kind` (`html`, `pdf`, `png`, `svg`) of a final formulation, or None.

        `formulation` is what `export_formulation` returned to the actor: holding it is what
        opens its renderings. A draft's is never kept.
        """
        if not _keepable(formulation):
            return None
        with self.store.read() as tx:
            return tx.rendered.get(rendering_key(formulation, renderer), kind)

    def keep_rendering(
        self, formulation: Formulation, kind: str, renderer: str, content: bytes
    ) -> None:
        """Keep a final formulation's rendering; a draft's, or a refused write, is let go.

        Keeping is an optimisation: when the database refuses the write (busy, or failed its
        integrity check), the document the actor asked for is still handed out.
        """
        if not _keepable(formulation):
            return
        try:
            with self.store.write() as tx:
                tx.rendered.add(rendering_key(formulation, renderer), kind, content, self.clock())
        except StoreError:
            return
