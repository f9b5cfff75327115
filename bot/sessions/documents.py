"""A sent brief or memo as the attachment of its card: the files' name, the words that
name it, and the command that shows it again.  The adapters read the ref back to find
the kept document (a draft is never attached: it still changes)."""

from __future__ import annotations

from bot.messages import Attachment
from bot.org.models import Unit
from bot.sessions.models import DocumentKind, SessionDocument

REF_PREFIX = "session-document:"


def document_ref(document_id: int) -> str:
    return f"{REF_PREFIX}{document_id}"


def document_id(ref: str) -> int | None:
    """The document id a ref names; None for anything else (a ref is data from the outbox)."""
    number = ref.removeprefix(REF_PREFIX) if ref.startswith(REF_PREFIX) else ""
    return int(number) if number.isdigit() and len(number) < 19 else None


def attachment(document: SessionDocument, unit: Unit) -> Attachment:
    assert document.id is not None
    session = document.session_id
    if document.kind == DocumentKind.BRIEF:
        title, command = f"Brief for session #{session}: {unit.name}", f"brief {session}"
    else:
        title, command = f"Follow-up memo of session #{session}: {unit.name}", f"memo {session}"
    return Attachment(
        ref=document_ref(document.id),
        # Unit keys are lower-case letters, digits, - and _ (the org file checks them).
        filename=f"session-{session}-{unit.key}-{document.kind}",
        title=title,
        command=command,
    )
