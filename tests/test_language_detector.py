"""Per-message language detection, as the NLU component sees messages."""

import pytest

from bot.core.taxonomy import taxonomy
from bot.langid.detector import DetectorSettings, LanguageDetector
from bot.langid.text import foreign_script, language_words, scrub
from tests.support.paths import LANGID_DEV, langid_dev_lines


@pytest.fixture(scope="module")
def detector():
    return LanguageDetector(taxonomy().languages)


@pytest.mark.parametrize(
    "text, language",
    [
        ("miten saan oleskeluluvan jatkettua", "fi"),
        ("hur ansöker jag om uppehållstillstånd", "sv"),
        ("how can I apply for citizenship", "en"),
        ("как продлить вид на жительство", "ru"),
        ("як продовжити тимчасовий захист", "uk"),
        ("كيف أجدد تصريح الإقامة", "ar"),
        ("sidee baan u codsadaa dhalashada", "so"),
        ("چطور اقامت را تمدید کنم", "fa"),
        ("kuidas taotleda elamisluba", "et"),
        ("oturma iznimi nasıl uzatırım", "tr"),
        ("我想申请居留许可", "zh"),
        ("cómo renuevo mi permiso de residencia", "es"),
        ("comment renouveler mon titre de séjour", "fr"),
    ],
)
def test_detects_each_supported_language(detector, text, language):
    detection = detector.detect(text)
    assert detection.language == language
    assert detection.reliable


@pytest.mark.parametrize("text", ["ok", "kiitos", "1", "👍👍", "Kela", "oleskelulupa?"])
def test_short_or_neutral_messages_are_not_reliable(detector, text):
    assert not detector.detect(text).reliable


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "Hii!",
        "hmm",
        "ok",
        "Kela",
        "lol 😂",
        "salam",
        "Marhaba!",
        "ni hao",
        "wifi",
        "Taxi?",
        "vitayu",
        "privit",
    ],
)
def test_messages_of_neutral_words_name_no_language(detector, text):
    # Their letters alone once made "hi" Somali (0.21) and "hii" Somali (0.68); with the lean bar
    # at 0.35, "wifi" would have been Spanish (0.43), "vitayu" Somali (0.5), "privit" Swedish.
    assert detector.detect(text).language is None


def test_an_english_chat_word_is_not_taken_for_a_language_without_a_word_list(detector):
    # "thx" is a whole English example; Somali (no frequency list) was estimated a decade below
    # that and won on its letters.
    assert detector.detect("thx").language == "en"


def test_a_word_known_only_in_another_script_does_not_favour_a_language_without_a_list(detector):
    # "privet" is a Russian greeting example typed in Latin letters; Russian cannot be read from
    # Latin letters, and Somali (no frequency list) was estimated from Russian's -2 and won.
    assert detector.detect("privet").language != "so"


def test_finnish_terms_inside_other_languages_do_not_count(detector):
    assert detector.detect("كيف أحصل على kotoutumissuunnitelma").language == "ar"
    assert detector.detect("как записаться на suomen kielen kurssi").language == "ru"
    assert language_words("how do I get kotoutumissuunnitelman") == ["how", "do", "i", "get"]


@pytest.mark.parametrize(
    "text, code",
    [
        ("Ich möchte wissen, wie ich eine Aufenthaltserlaubnis für meine Familie bekomme", "de"),
        ("Vorrei sapere come posso ottenere il permesso di soggiorno in Finlandia", "it"),
        ("O meu filho precisa de uma vaga na creche, com quem devo falar", "pt"),
        ("Gdzie mogę zapisać się na kurs języka fińskiego i ile to kosztuje", "pl"),
        ("Ik wil graag weten hoe ik een verblijfsvergunning voor mijn familie kan krijgen", "nl"),
        ("ሰላም እንዴት ነህ ሰላም", "ti"),
        ("नमस्ते मुझे मदद चाहिए", "hi"),
    ],
)
def test_clearly_unsupported_languages_are_flagged(detector, text, code):
    detection = detector.detect(text)
    assert detection.unsupported == code
    assert not detection.reliable


@pytest.mark.parametrize(
    "text",
    [
        "in English please",
        "hola que tal",
        "voinko saada kotoutumissuunnitelman vielä kolmen vuoden jälkeen",
        "je voudrais savoir comment faire venir ma femme et mes enfants",
    ],
)
def test_supported_languages_are_not_flagged_as_unsupported(detector, text):
    assert detector.detect(text).unsupported is None


def test_detection_is_deterministic(detector):
    texts = ["hola que tal", "hej hej", "moi moi", "dobryi den"]
    first = [detector.detect(t).as_dict() for t in texts]
    second = [detector.detect(t).as_dict() for t in texts]
    assert first == second


def test_langdetect_backend_is_selectable():
    detector = LanguageDetector(taxonomy().languages, DetectorSettings(backend="langdetect"))
    assert detector.detect("comment renouveler mon titre de séjour").language == "fr"


@pytest.mark.skipif(not LANGID_DEV.is_dir(), reason="../shared/langid-dev not available")
def test_no_supported_language_sentence_is_flagged_unsupported(detector):
    """Only messages of 4 words or more are checked: the corpus' sentences (bench/langid.py
    counts all 9,751 texts)."""
    flagged = []
    for code in detector.languages:
        for line in langid_dev_lines("sentences", code):
            if line.strip() and detector.detect(line).unsupported:
                flagged.append((code, line))
    assert flagged == []


def test_lingua_low_accuracy_backend_is_selectable():
    detector = LanguageDetector(
        taxonomy().languages, DetectorSettings(backend="lingua-compact-low")
    )
    assert detector.detect("miten voin hakea oleskelulupaa puolisolle").language == "fi"
    assert detector.detect("как продлить вид на жительство").language == "ru"


def test_foreign_script_needs_a_majority():
    assert foreign_script("ሰላም") == "ti"
    assert foreign_script("hello ሰ") is None


@pytest.mark.parametrize(
    "mixed, clean",
    [
        # Cyrillic "а" and "е" hidden in Turkish (a page that hides its text from copying)
        (
            "Finlаndiyа Göçmеn Bаşvurusu Nаsıl Yаpılır?",
            "Finlandiya Göçmen Başvurusu Nasıl Yapılır?",
        ),
        # Ukrainian typed with a Latin "i"
        ("як влаштувати дiтей у школу", "як влаштувати дітей у школу"),
        # capitals too
        ("ФИНЛЯHДИЯ", "ФИНЛЯНДИЯ"),
    ],
)
def test_words_mixing_look_alike_scripts_are_written_in_their_main_script(mixed, clean):
    assert scrub(mixed) == clean
    assert len(scrub(mixed)) == len(mixed)


@pytest.mark.parametrize(
    "text",
    [
        "Москва Moscow",  # two words, each in one script
        "kelan asumistuki как получить",  # Finnish terms inside Russian: separate words
        "abЖ",  # "Ж" has no Latin look-alike: left as written
        "аa",  # as many letters of each script: nothing to go by
    ],
)
def test_words_in_one_script_or_without_look_alikes_stay(text):
    assert scrub(text) == text


def test_mixed_script_words_are_detected_in_their_language(detector):
    assert detector.detect(scrub("Finlаndiyа Göçmеn Bаşvurusu Nаsıl Yаpılır?")).language == "tr"
