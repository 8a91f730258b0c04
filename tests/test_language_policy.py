"""The keep-or-switch rules for the conversation's language."""

from bot.langid.policy import LanguageEvidence, decide_language
from bot.taxonomy import taxonomy

LANGS = taxonomy().languages


def decide(current, previous_ui=None, **evidence):
    return decide_language(current, LanguageEvidence(**evidence), previous_ui, LANGS)


def test_first_turn_takes_a_reliable_text_over_the_ui_language():
    decision = decide(None, detected="sv", reliable=True, ui_language="fi")
    assert (decision.language, decision.reason) == ("sv", "text")


def test_first_turn_uncertain_text_takes_the_ui_language():
    decision = decide(None, detected="et", reliable=False, ui_language="fi")
    assert (decision.language, decision.reason) == ("fi", "first_turn_ui")


def test_first_turn_without_metadata_takes_the_best_guess():
    decision = decide(None, detected="es", reliable=False)
    assert (decision.language, decision.reason) == ("es", "first_turn_guess")


def test_short_or_uncertain_message_keeps_the_language():
    assert decide("ar", detected="fi", reliable=False).language == "ar"


def test_clear_message_in_another_language_switches():
    decision = decide("fi", detected="ru", reliable=True)
    assert (decision.language, decision.reason) == ("ru", "text")


def test_explicit_request_wins_over_the_text():
    decision = decide("fi", detected="fi", reliable=True, explicit="en")
    assert (decision.language, decision.reason) == ("en", "explicit")


def test_new_ui_language_switches_a_running_conversation():
    decision = decide("fi", previous_ui="fi", detected="fi", reliable=False, ui_language="ar")
    assert (decision.language, decision.reason) == ("ar", "ui")


def test_same_ui_language_does_not_override_a_switch_by_text():
    assert decide("en", previous_ui="fi", ui_language="fi").language == "en"


def test_unsupported_language_keeps_the_current_one():
    assert decide("sv", detected="et", reliable=False, unsupported="de").language == "sv"


def test_unsupported_first_message_sets_no_language():
    assert decide(None, detected="sv", unsupported="de").language is None


def test_unknown_codes_are_ignored():
    assert decide("fi", explicit="de", ui_language="xx").language == "fi"


def test_not_understood_message_switches_only_when_very_clear():
    assert (
        decide("es", detected="tr", reliable=True, confidence=0.52, understood=False).language
        == "es"
    )
    decision = decide("es", detected="ru", reliable=True, confidence=0.99, understood=False)
    assert decision.language == "ru"
