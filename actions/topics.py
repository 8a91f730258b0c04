"""Answers a topic question: the specific answer when one was asked for, else the topic card."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    latest_entity,
    locale_of,
    offer_languages_if_unsure,
    send,
    topic_content,
)
from bot.answers.dialogue import extra_action
from bot.content.model import AnswerContent, TopicContent
from bot.content.replies import (
    Reply,
    answer_choice,
    feedback_prompt,
    specific_answer,
    text_reply,
    topic_answer,
)
from bot.core.locales import Locale
from bot.core.taxonomy import taxonomy

ANSWER_SEPARATOR = "/"


def chosen_answers(
    parse: dict[str, Any], requested: str | None, content: TopicContent
) -> list[AnswerContent]:
    """The specific answer(s) for this message: one (answer it), two (ask which), none (card).

    A button names its answer (entity ``answer``); otherwise the NLU's choice
    (bot/server/nlu/answer_selector.py) within this topic counts.
    """
    if requested:
        found = content.specific(requested)
        return [found] if found else []
    selection = parse.get("answer") or {}
    if selection.get("topic") != content.topic:
        return []
    ids = [selection["id"]] if selection.get("id") else selection.get("alternatives") or []
    return [answer for answer in map(content.specific, ids) if answer is not None]


def reply_for(locale: Locale, content: TopicContent, answers: list[AnswerContent]) -> Reply:
    if len(answers) == 1:
        return specific_answer(locale, content, answers[0])
    if answers:
        return answer_choice(locale, content, answers)
    return topic_answer(locale, content)


async def answer_replies(topic: str, locale: Locale, answer_id: str | None = None) -> list[Reply]:
    """The answer ``answer_id`` of ``topic`` (or its card) in the user's language, or an error."""
    content = await topic_content(topic, locale.code)
    if content is None:
        return [text_reply(locale, "error")]
    answer = content.specific(answer_id)
    return [reply_for(locale, content, [answer] if answer else [])]


def split_answer_key(key: str | None) -> tuple[str | None, str | None]:
    """``citizenship/residence_time`` -> (topic, answer id)."""
    if not key or ANSWER_SEPARATOR not in key:
        return key or None, None
    topic, answer_id = key.split(ANSWER_SEPARATOR, 1)
    return topic, answer_id


class ActionAnswerTopic(Action):
    def name(self) -> str:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        locale = locale_of(tracker)
        parse = tracker.latest_message or {}
        intent = (parse.get("intent") or {}).get("name")
        topic = intent if taxonomy().is_topic(intent) else tracker.get_slot("last_topic")
        if not topic:
            send(dispatcher, text_reply(locale, "fallback"))
            return []
        content = await topic_content(topic, locale.code)
        if content is None:
            send(dispatcher, text_reply(locale, "error"))
            return [SlotSet("last_topic", topic)]
        answers = chosen_answers(parse, latest_entity(tracker, "answer"), content)
        send(dispatcher, reply_for(locale, content, answers))
        if extra_action(topic) is None:
            # Topics with a follow-up action get the feedback question after it.
            send(dispatcher, feedback_prompt(locale))
            offer_languages_if_unsure(dispatcher, tracker)  # else after the follow-up action
        last_answer = answers[0].key if len(answers) == 1 else None
        return [SlotSet("last_topic", topic), SlotSet("last_answer", last_answer)]
