"""Rasa NLU component: a person in danger gets the ``emergency`` intent, whatever else they ask.

Runs right after the intent classifier. The message becomes ``emergency`` (confidence 1.0) when
  - it is a bare cry for help ("112", "apua!!", "ambulance", "poliisi"), or
  - a danger cue matches (bot/server/nlu/emergency_cues.py) and the message does not read like an
  ordinary
    question about a service ("who pays for the ambulance"), or it does but the classifier
    also takes it for an emergency, or
  - the classifier itself is confident it is an emergency, or
  - a clause after the first ("... but my husband just hit me and he is still here") has a
    danger cue or is very likely an emergency to the classifier, and has no ordinary phrase of
    its own (bot/server/nlu/clauses.py): an errand first does not hide the danger after it.
The kind of danger goes into the parse result (``"emergency": {"category": "suicide", ...}``),
so the reply can add the fitting helpline after 112.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.server.nlu.clauses import CLAUSE_EMERGENCY_KEY, CLAUSES_KEY
from bot.server.nlu.emergency_cues import GENERAL, emergency_cues

EMERGENCY_INTENT = "emergency"
EMERGENCY_KEY = "emergency"
COMMAND_PREFIX = "/"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyDetector(GraphComponent):
    """Overrides the intent with ``emergency`` when cues or the classifier say so."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # The classifier alone decides only when at least this sure; for a clause after the
        # first, when at least `clause_threshold` sure (a clause is short and out of context).
        return {"classifier_threshold": 0.5, "clause_threshold": 0.8}

    def __init__(self, config: dict[str, Any]) -> None:
        self.threshold = float(config.get("classifier_threshold", 0.5))
        self.clause_threshold = float(config.get("clause_threshold", 0.8))
        self.cues = emergency_cues()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmergencyDetector:
        return cls({**cls.get_default_config(), **config})

    def assess(
        self,
        text: str,
        intent: dict[str, Any],
        ranking: list[dict],
        clauses: Sequence[tuple[int, int]] = (),
        clause_emergency: Sequence[float] = (),
    ) -> dict | None:
        """The ``emergency`` entry of the parse result, or None for an ordinary message.
        ``clauses``: the message's clause spans; ``clause_emergency``: the classifier's
        emergency probability of each (both empty for a message of one clause)."""
        if not text or text.startswith(COMMAND_PREFIX):
            return None
        signal = self.cues.check(text)
        classifier_says = intent.get("name") == EMERGENCY_INTENT
        classifier_sure = (
            classifier_says and float(intent.get("confidence") or 0.0) >= self.threshold
        )
        if signal.found and (not signal.ordinary or classifier_says):
            return {"category": signal.category, "by": "cue"}
        if classifier_sure and not signal.ordinary:
            return {"category": signal.category or GENERAL, "by": "classifier"}
        return self._later_clause(text, clauses, clause_emergency)

    def _later_clause(
        self, text: str, clauses: Sequence[tuple[int, int]], probabilities: Sequence[float]
    ) -> dict | None:
        """A clause after the first that is a cry for help on its own. The first clause is the
        whole message's own business: a calm description before a question ("my child has a
        mild cold, no fever. can she go to daycare?") must not alarm anyone."""
        for index in range(1, min(len(clauses), len(probabilities))):
            start, end = clauses[index]
            signal = self.cues.check(text[start:end])
            if signal.ordinary:
                continue
            if signal.found or probabilities[index] >= self.clause_threshold:
                return {"category": signal.category or GENERAL, "by": "clause"}
        return None

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            ranking = message.get(INTENT_RANKING_KEY) or []
            found = self.assess(
                message.get(TEXT) or "",
                intent,
                ranking,
                message.get(CLAUSES_KEY) or (),
                message.get(CLAUSE_EMERGENCY_KEY) or (),
            )
            rest = [entry for entry in ranking if entry.get("name") != EMERGENCY_INTENT]
            if found is None:
                if intent.get("name") == EMERGENCY_INTENT:
                    # Not sure enough to alarm anyone: the next likeliest intent answers.
                    runner_up = rest[0] if rest else {"name": "nlu_fallback", "confidence": 0.0}
                    message.set(INTENT, dict(runner_up), True)
                    message.set(INTENT_RANKING_KEY, rest, True)
                continue
            message.set(INTENT, {"name": EMERGENCY_INTENT, "confidence": 1.0}, True)
            message.set(
                INTENT_RANKING_KEY, [{"name": EMERGENCY_INTENT, "confidence": 1.0}, *rest], True
            )
            message.set(EMERGENCY_KEY, found, add_to_output=True)
        return messages
