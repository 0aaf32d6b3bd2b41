"""Backups: a verified copy of the database, audited."""

from __future__ import annotations

from pathlib import Path

from instrument.access import Action, Actor
from instrument.audit import AuditAction, Entity
from instrument.service.base import ServiceBase
from instrument.store import BackupReport


class BackupService(ServiceBase):
    """Backing up the database."""

    def backup(self, actor: Actor, out: Path) -> BackupReport:
        """Write a verified copy of the database to `out` with SQLite's backup API."""
        with self._operation(actor, AuditAction.BACKUP) as (op, _tx):
            self._require(op, Action.BACKUP)
            op.entity = Entity.DATABASE
        return self.store.backup(Path(out))
