"""Explicit language requests (bot/langid/explicit.py): what switches and what does not."""

from bot.langid.explicit import MIN_CONFIDENCE, explicit_language


def parse(text, intent, confidence, *entities):
    data = {"text": text, "intent": {"name": intent}, "entities": []}
    if confidence is not None:
        data["intent"]["confidence"] = confidence
    for value, start, end in entities:
        data["entities"].append({"entity": "language", "value": value, "start": start, "end": end})
    return data


def test_a_clear_request_names_the_language_asked_for():
    message = parse(
        "not arabic, english please", "change_language", 0.99, ("ar", 4, 10), ("en", 12, 19)
    )
    assert explicit_language(message) == "en"


def test_an_unsure_request_switches_nothing():
    # A two-word text ("English city") that the classifier only half took for a request.
    text = "الإنجليزية مدينة"
    message = parse(text, "change_language", MIN_CONFIDENCE - 0.12, ("en", 0, 10))
    assert explicit_language(message) is None
    assert explicit_language(parse(text, "change_language", MIN_CONFIDENCE, ("en", 0, 10))) == "en"


def test_a_button_payload_without_confidence_counts():
    assert (
        explicit_language(parse("/change_language", "change_language", None, ("sv", 0, 0))) == "sv"
    )


def test_a_message_that_is_only_a_language_name_counts_whatever_the_intent():
    assert explicit_language(parse("Türkçe", "affirm", 0.3, ("tr", 0, 6))) == "tr"
    assert explicit_language(parse("Türkçe", "change_language", 0.2, ("tr", 0, 6))) == "tr"


def test_a_language_named_inside_a_question_is_no_request():
    message = parse("swedish courses in vaasa", "language_training", 0.99, ("sv", 0, 7))
    assert explicit_language(message) is None
