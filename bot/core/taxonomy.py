"""The topic taxonomy (topics.yml): the one list of languages and of topics that intents, domain,
detection tables, locales, content and tests derive from (docs/adding-a-language.md,
docs/adding-a-topic.md)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from bot.core.paths import data_path
from bot.core.yamlio import load_yaml


@dataclass(frozen=True)
class Topic:
    id: str
    area: str
    about: str


@dataclass(frozen=True)
class Taxonomy:
    languages: tuple[str, ...]
    topics: dict[str, Topic]
    conversation_intents: tuple[str, ...]

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return tuple(self.topics)

    @property
    def intents(self) -> tuple[str, ...]:
        """Every intent the NLU is trained on (nlu_fallback comes from Rasa)."""
        return self.topic_ids + self.conversation_intents

    def is_topic(self, intent: str | None) -> bool:
        return intent in self.topics


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    raw = load_yaml(path or data_path("topics.yml"))
    topics = {
        topic_id: Topic(topic_id, spec["area"], spec["about"])
        for topic_id, spec in raw["topics"].items()
    }
    return Taxonomy(
        languages=tuple(raw["languages"]),
        topics=topics,
        conversation_intents=tuple(raw.get("conversation_intents") or ()),
    )


@functools.lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    """The project's taxonomy, loaded once per process."""
    return load_taxonomy()
