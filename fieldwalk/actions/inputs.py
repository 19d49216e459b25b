"""What an action item is made of when it is created or edited: one type that its form produces and the
operations take."""

from dataclasses import dataclass, fields
from datetime import date

from fieldwalk.models import Priority, ResponsibleParty, User


@dataclass(frozen=True)
class ActionItemInput:
    """An action item's details as sent (each one also a name in actions.operations.EDITABLE_FIELDS)."""

    title: str
    description: str = ""
    responsible_party: ResponsibleParty | None = None
    assignee: User | None = None
    due_date: date | None = None
    priority: Priority = Priority.MEDIUM

    def changes(self) -> dict:
        """Every detail by name, as update_action_item takes them."""
        return {field.name: getattr(self, field.name) for field in fields(self)}
