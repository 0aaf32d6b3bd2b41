"""Backups: a verified copy of the database, audited."""

from __future__ import annotations

from pathlib import Path

from instrument.access import Action, Actor
from instrument.audit import AuditAction, Entity, Outcome
from instrument.errors import InstrumentError, StoreError
from instrument.service.base import ServiceBase
from instrument.store import BackupReport


class BackupService(ServiceBase):
    """Backing up the database."""

    def backup(self, actor: Actor, out: Path) -> BackupReport:
        """Write a verified copy of the database to `out` with SQLite's backup API.

        The audit entry records what happened (SECURITY.md 31): `ok` once the copy is written
        and verified, `failed` when it was not; a refusal of the actor is `denied` as always.
        """
        with self._operation(actor, AuditAction.BACKUP, audit_ok=False) as (op, _tx):
            self._require(op, Action.BACKUP)
            op.entity = Entity.DATABASE
        try:
            report = self.store.backup(Path(out))
        except InstrumentError:
            self.store.audit_only(op.event(Outcome.FAILED))
            raise
        except OSError as error:
            self.store.audit_only(op.event(Outcome.FAILED))
            raise StoreError(
                f"cannot write the backup: {error.strerror or error}",
                where=str(out),
                fix="choose a writable folder",
            ) from None
        self.store.audit_only(op.event(Outcome.OK))
        return report
