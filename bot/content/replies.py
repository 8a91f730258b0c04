"""Builds the assistant's replies (text and buttons) in the user's language.

Shared by the locale NLG (in the Rasa server) and the custom actions (in the action server), so
that a reply looks the same whichever side sends it. Texts come from ``locales/<code>.yml``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bot.content.model import AnswerContent, Link, TopicContent
from bot.core.locales import Locale, all_locales, get_locale
from bot.core.taxonomy import taxonomy

Reply = dict[str, Any]

# Languages of the reply to a message in a language we do not speak (as the issue asks).
UNSUPPORTED_REPLY_LANGUAGES = ("en", "fi")


def topic_button(locale: Locale, topic: str) -> dict[str, str]:
    return {"title": locale.topic_label(topic), "payload": f"/{topic}"}


def language_buttons() -> list[dict[str, str]]:
    """One button per supported language, labelled with its own name."""
    return [
        {
            "title": locale.name,
            "payload": "/change_language" + json.dumps({"language": locale.code}),
        }
        for locale in all_locales()
    ]


def text_reply(locale: Locale, key: str, **values: Any) -> Reply:
    return {"text": locale.text(key, **values)}


def help_reply(locale: Locale) -> Reply:
    buttons = [topic_button(locale, topic) for topic in taxonomy().topic_ids]
    return {"text": locale.text("help"), "buttons": buttons}


def fallback_reply(
    locale: Locale, suggested_topics: Iterable[str], torn: bool = False
) -> list[Reply]:
    """``torn``: the question was understood but fits two topics about equally; asking which
    one is then the whole reply (no "sorry, I didn't understand")."""
    buttons = [topic_button(locale, topic) for topic in suggested_topics]
    if torn and buttons:
        return [{"text": locale.text("fallback_ambiguous"), "buttons": buttons}]
    replies = [text_reply(locale, "fallback")]
    if buttons:
        replies.append({"text": locale.text("fallback_suggestions"), "buttons": buttons})
    return replies


def unsupported_language_reply() -> Reply:
    text = "\n\n".join(
        get_locale(code).text("unsupported_language") for code in UNSUPPORTED_REPLY_LANGUAGES
    )
    return {"text": text, "buttons": language_buttons()}


def ask_language_reply(locale: Locale) -> Reply:
    return {"text": locale.text("ask_language"), "buttons": language_buttons()}


def with_language_choice(locale: Locale, reply: Reply) -> Reply:
    """``reply`` followed by the language question and buttons, for a conversation whose language
    is only a guess (its first message was too short to tell, see bot/langid/policy.py)."""
    if reply.get("buttons"):
        return reply
    return {
        "text": f"{reply['text']}\n\n{locale.text('ask_language')}",
        "buttons": language_buttons(),
    }


def language_changed_reply(locale: Locale) -> Reply:
    return text_reply(locale, "language_changed", language_name=locale.name)


def source_lines(locale: Locale, links: list[Link]) -> list[str]:
    """The official links, ``- Title: URL``; a page that is not in the user's language says which
    language it is in, briefly, after its title: ``- Title (English): URL`` (the language's own
    name, as on the language buttons). The web page shows these as named links, the language as
    a mark on the link, and one note under them (``web.pages_other_language`` of the locale)."""
    lines = [locale.text("topic_intro")]
    for link in links:
        mark = "" if link.language == locale.code else f" ({get_locale(link.language).name})"
        lines.append(f"- {link.title}{mark}: {link.url}")
    return lines


def topic_answer(locale: Locale, content: TopicContent) -> Reply:
    """The answer card: short answer, steps, official links (with a note when not in the user's
    language), last-reviewed date, related topics as buttons."""
    lines = [f"**{content.title}**", "", content.answer]
    if content.steps:
        lines.append("")
        lines.extend(f"{number}. {step}" for number, step in enumerate(content.steps, 1))
    lines += ["", *source_lines(locale, content.links())]
    if content.reviewed:
        lines += ["", f"{content.publisher} · {content.reviewed}"]
    buttons = [topic_button(locale, topic) for topic in content.related]
    return {"text": "\n".join(lines), "buttons": buttons}


def answer_button(locale: Locale, answer: AnswerContent) -> dict[str, str]:
    """A button that asks for one specific answer (the NLU reads the ``answer`` entity)."""
    payload = f"/{answer.topic}" + json.dumps({"answer": answer.id})
    return {"title": answer.question, "payload": payload}


def overview_button(locale: Locale, topic: str) -> dict[str, str]:
    return {
        "title": locale.text("answer_overview", topic=locale.topic_label(topic)),
        "payload": f"/{topic}",
    }


def specific_answer(locale: Locale, content: TopicContent, answer: AnswerContent) -> Reply:
    """The answer to the question that was asked: the fact first, then where it is stated, then
    a button to the topic overview."""
    lines = [f"**{answer.question}**", "", answer.answer, "", *source_lines(locale, answer.links())]
    if answer.checked:
        lines += ["", locale.text("checked_on", date=answer.checked)]
    return {"text": "\n".join(lines), "buttons": [overview_button(locale, content.topic)]}


def answer_choice(locale: Locale, content: TopicContent, answers: list[AnswerContent]) -> Reply:
    """Two answers were equally likely: ask which one rather than guess."""
    buttons = [answer_button(locale, answer) for answer in answers]
    return {
        "text": locale.text("answer_choice"),
        "buttons": [*buttons, overview_button(locale, content.topic)],
    }


def feedback_prompt(locale: Locale) -> Reply:
    return {
        "text": locale.text("feedback_ask"),
        "buttons": [
            {"title": locale.text("feedback_yes"), "payload": "/feedback_positive"},
            {"title": locale.text("feedback_no"), "payload": "/feedback_negative"},
        ],
    }


def reception_reply(locale: Locale, contents: list[TopicContent]) -> Reply:
    """Reception centres, moving to a municipality, who to contact (links from the topics)."""
    lines = [
        f"**{locale.text('reception_intro')}**",
        "",
        locale.text("reception_centre"),
        "",
        locale.text("reception_moving"),
        "",
        locale.text("reception_contact"),
    ]
    seen: set[str] = set()
    for content in contents:
        for link in content.links():
            if link.url not in seen:
                seen.add(link.url)
                lines.append(f"- {link.title}: {link.url}")
    return {"text": "\n".join(lines)}
