"""Repositories: the core's ports (bot/ports.py) implemented with SQLAlchemy, one module
per domain.  storage/uow.py wires them into the unit of work; the names are re-exported
here so ``from storage.repositories import CheckInRepo`` keeps working."""

from storage.repositories.audit import AuditRepo
from storage.repositories.base import Repo, insert_ignore, to_domain
from storage.repositories.checkins import CheckInRepo
from storage.repositories.commitments import CommitmentRepo
from storage.repositories.deliveries import DeliveryRepo
from storage.repositories.digests import DigestRepo
from storage.repositories.escalations import EscalationRepo
from storage.repositories.events import EventRepo
from storage.repositories.org import OrgRepo
from storage.repositories.people import AwayRepo, PersonRepo
from storage.repositories.readings import ReadingRepo
from storage.repositories.units import MetricRepo, UnitRepo

__all__ = [
    "AuditRepo",
    "AwayRepo",
    "CheckInRepo",
    "CommitmentRepo",
    "DeliveryRepo",
    "DigestRepo",
    "EscalationRepo",
    "EventRepo",
    "MetricRepo",
    "OrgRepo",
    "PersonRepo",
    "ReadingRepo",
    "Repo",
    "UnitRepo",
    "insert_ignore",
    "to_domain",
]
