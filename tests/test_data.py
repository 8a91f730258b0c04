"""Data derived from topics.yml is complete and in sync in every language."""

import pytest

from bot import check_data, generate
from bot.locales import all_locales, get_locale
from bot.taxonomy import taxonomy


def test_generated_files_are_up_to_date():
    assert generate.main(["--check"]) == 0


@pytest.mark.parametrize(
    "check",
    [
        check_data.check_locales,
        check_data.check_nlu,
        check_data.check_content,
        check_data.check_eval_is_held_out,
        check_data.check_taxonomy_matches_shared,
    ],
)
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
    assert {loc.code for loc in all_locales() if loc.is_rtl} == {"ar", "fa"}


def test_topics_and_intents_come_from_topics_yml():
    tax = taxonomy()
    shared = check_data.load_taxonomy(check_data.project_root().parent / "shared" / "topics.yml")
    assert set(shared.topic_ids) <= set(tax.topic_ids) and tax.languages == shared.languages
    assert {"housing", "health_care", "emergency"} <= set(tax.intents)
    assert set(tax.topic_ids).isdisjoint(tax.conversation_intents)
