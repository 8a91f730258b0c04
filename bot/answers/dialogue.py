"""Which topics get more than the answer card (used by the generated rules and the actions)."""

from __future__ import annotations

SERVICE_DETAILS_ACTION = "action_service_details"
RECEPTION_INFO_ACTION = "action_reception_info"

# Topics whose answer continues with local services of the user's municipality (PTV).
SERVICE_TOPICS = frozenset(
    {"integration_services", "employment", "language_training", "initial_assessment",
     "integration_plan", "children_and_youth", "housing", "health_care", "education_and_daycare",
     "registration_and_identity"}
)  # fmt: skip
# Topics whose answer continues with refugee-reception information.
RECEPTION_TOPICS = frozenset(
    {"asylum", "municipal_reception", "quota_refugees", "temporary_protection"}
)


def extra_action(topic: str) -> str | None:
    """The action that follows the answer card of ``topic``, if any."""
    if topic in SERVICE_TOPICS:
        return SERVICE_DETAILS_ACTION
    if topic in RECEPTION_TOPICS:
        return RECEPTION_INFO_ACTION
    return None
