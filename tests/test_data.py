"""Data derived from topics.yml is complete and in sync in every language."""

import unicodedata

import pytest

from bot.core.locales import all_locales, get_locale
from bot.core.taxonomy import taxonomy
from bot.tools import check_data, generate


def test_generated_files_are_up_to_date():
    assert generate.main(["--check"]) == 0


@pytest.mark.parametrize("check", check_data.CHECKS, ids=lambda check: check.__name__)
def test_every_language_has_everything(check):
    assert check() == []


def test_every_locale_renders_every_text_with_its_placeholders():
    values = {
        "language_name": "X",
        "title": "T",
        "page_language": "P",
        "max_chars": 500,
        "municipality": "M",
        "topic": "T",
        "date": "2026-12-06",
    }
    for locale in all_locales():
        for key in get_locale("en").texts:
            text = locale.text(key, **values)
            assert text.strip(), f"{locale.code}.{key} is empty"
            assert "{" not in text, f"{locale.code}.{key} has an unfilled placeholder"


def test_right_to_left_languages():
    """A locale is right-to-left exactly when its own name is written in a right-to-left script."""
    for locale in all_locales():
        assert locale.direction in ("ltr", "rtl"), locale.code
        letters = [char for char in locale.name if char.isalpha()]
        rtl_letters = [char for char in letters if unicodedata.bidirectional(char) in ("R", "AL")]
        assert locale.is_rtl == (len(rtl_letters) > len(letters) / 2), locale.code
    assert get_locale("ar").is_rtl and not get_locale("fi").is_rtl


def test_topics_and_intents_come_from_topics_yml():
    tax = taxonomy()
    shared = check_data.load_taxonomy(check_data.project_root().parent / "shared" / "topics.yml")
    assert set(shared.topic_ids) <= set(tax.topic_ids)
    # the shared languages first, in their order; a language added here comes after them
    assert tax.languages[: len(shared.languages)] == shared.languages
    assert {"housing", "health_care", "emergency"} <= set(tax.intents)
    assert set(tax.topic_ids).isdisjoint(tax.conversation_intents)
