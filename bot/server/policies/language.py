"""Keeps the ``language`` slot right after every user message, inside the Rasa server.

Rasa runs every policy for each prediction; the ensemble applies the mandatory ``events`` of all
of them before the chosen action runs, winner or not. This policy never predicts an action (all
probabilities 0, lowest priority): on the first prediction after a user message it returns the
slot changes of bot/langid/tracking.py as events. Replies rendered for that message (bot.server.nlg,
custom actions) therefore already see the new language. (A custom slot-mapping action in the action
server used to set the slot: one HTTP round trip more for every message.) The languages it accepts
are those of topics.yml (bot.core.locales.supported_languages).
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.langid.tracking import language_updates


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class LanguageTrackingPolicy(Policy):
    """Sets ``language``/``ui_language`` after each user message; predicts no action."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 0}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, **kwargs)

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource  # nothing to learn: the rules are in bot/langid/policy.py

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        return self._prediction(self._default_predictions(domain), events=self.slot_events(tracker))

    @staticmethod
    def slot_events(tracker: DialogueStateTracker) -> list[SlotSet]:
        """The slot changes for the latest user message, once: right after it arrived."""
        message = tracker.latest_message
        if message is None or tracker.latest_action_name != ACTION_LISTEN_NAME:
            return []
        updates = language_updates(
            message.parse_data or {},
            message.metadata,
            tracker.get_slot("language"),
            tracker.get_slot("ui_language"),
            bool(tracker.get_slot("language_unsure")),
        )
        return [SlotSet(name, value) for name, value in updates.items()]
