"""Property-based fuzzing (hypothesis): NLU components, input rules, redaction, REST channel.

Arbitrary Unicode (any plane, combining marks, bidi and format characters; lone surrogates
where a JSON body can carry them) must never crash a component, and what comes out must be
coherent. Example counts are bounded and deadlines off, so the module stays well under a minute.
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.shared.nlu.training_data.message import Message

from bot.core.privacy import redact
from bot.core.taxonomy import taxonomy
from bot.server.channels.message_check import (
    EMPTY,
    INTERNAL_INTENTS,
    TOO_LONG,
    check_message,
    normalize_text,
)
from bot.server.nlu.gazetteer import GazetteerEntityExtractor
from bot.server.nlu.language_detector import LanguageDetectorComponent
from bot.server.nlu.tokenizer import MultilingualTokenizer

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
E2E_FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Every Unicode scalar value, weighted towards the tricky ones.
ANY_CHAR = st.characters(blacklist_categories=("Cs",))
TRICKY_CHAR = st.sampled_from(
    list("\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    + list("\x00\x07\x1b\x7f\u0085\u2028\u2029\t\n\r /{}@\"'\\<>%$#")
    + ["\u0301", "\U0001f600", "\U0001f3fd", "\ufe0f", "\U000e0001", "ß", "İ", "ﷺ", "\ufffe"]
)
TEXT = st.text(st.one_of(ANY_CHAR, TRICKY_CHAR), max_size=300)
# What a JSON body can carry on top: lone surrogates ("\ud800" escapes), which are not text.
JSON_TEXT = st.text(st.one_of(ANY_CHAR, TRICKY_CHAR, st.sampled_from(["\ud800", "\udfff"])))
LANGUAGE_WORDS = st.sampled_from(
    ["hei", "miten", "oleskelulupa", "Helsinki", "Tampereella", "arabia", "suomeksi", "English",
     "русский", "كيف", "申请", "Kela", "TE-palvelut", "in Espoo", "på svenska", "ruotsi"]
)  # fmt: skip
MIXED_TEXT = st.lists(st.one_of(LANGUAGE_WORDS, TEXT), max_size=8).map(" ".join)
NLU_TEXT = st.one_of(TEXT, MIXED_TEXT)


@pytest.fixture(scope="module")
def components():
    return (
        LanguageDetectorComponent(LanguageDetectorComponent.get_default_config()),
        MultilingualTokenizer(MultilingualTokenizer.get_default_config()),
        GazetteerEntityExtractor({}),
    )


@FUZZ
@given(text=NLU_TEXT, ui=st.one_of(st.none(), st.sampled_from(["fi", "ar", "xx", ""]), TEXT))
def test_nlu_components_survive_any_unicode(components, text, ui):
    detector, tokenizer, gazetteer = components
    message = Message(data={"text": text, "metadata": {"language": ui}})
    detector.process([message])
    tokenizer.process([message])
    gazetteer.process([message])

    info = message.get("language")
    assert info["language"] in (None, *taxonomy().languages)
    assert 0.0 <= info["confidence"] <= 1.0
    assert info["ui_language"] in (None, *taxonomy().languages)
    previous_end = 0
    for token in message.get("text_tokens") or []:
        assert 0 <= previous_end <= token.start <= token.end <= len(text)
        previous_end = token.end
    for entity in message.get("entities") or []:
        assert 0 <= entity["start"] < entity["end"] <= len(text)
        assert entity["entity"] in ("language", "municipality")
        assert isinstance(entity["value"], str) and entity["value"]


@pytest.mark.parametrize("text", ["\ud800", "A\ud800 hei", "\udfff\ud800"])
def test_nlu_components_on_lone_surrogates(components, text):
    """Any channel may pass lone surrogates: they are replaced, never crash the pipeline."""
    detector, tokenizer, _ = components
    message = Message(data={"text": text, "metadata": None})
    detector.process([message])
    tokenizer.process([message])
    assert len(message.get("text")) == len(text)
    assert "\ud800" not in message.get("text")
    assert all(token.end <= len(text) for token in message.get("text_tokens"))


@FUZZ
@given(text=JSON_TEXT, intents=st.sets(st.sampled_from(["greet", "help", "restart", "back"])))
def test_input_rules_are_total_and_idempotent(text, intents):
    checked = check_message(text, intents)
    if checked.problem == EMPTY:
        assert checked.text == ""
        return
    if checked.problem == TOO_LONG:
        return
    normal = normalize_text(text)
    assert normalize_text(normal) == normal
    assert normal == normal.strip() and "  " not in normal
    assert not any(ch in normal for ch in "\x00\x1b\u200b\u202e\u2066\ufeff\ud800")
    assert checked.text.encode("utf-8")  # no lone surrogates left to break a log or a database
    if checked.text.startswith("/"):
        intent = checked.text[1:].split("{")[0].split("@")[0].strip()
        assert intent not in INTERNAL_INTENTS


SECRET = st.one_of(
    st.builds(
        "{:02d}{:02d}{:02d}{}{:03d}{}".format,
        st.integers(1, 28), st.integers(1, 12), st.integers(0, 99),
        st.sampled_from(list("+-YXWVUABCDEF")), st.integers(2, 899),
        st.sampled_from(list("0123456789ABCDEFHJKLMNPRSTUVWXY")),
    ),
    st.builds("+358 4{} {:03d} {:04d}".format, st.integers(0, 9), st.integers(0, 999),
              st.integers(0, 9999)),
    st.builds("04{}-{:07d}".format, st.integers(0, 9), st.integers(0, 9_999_999)),
    st.builds("{}.{}@{}.fi".format, st.from_regex(r"[a-z]{2,8}", fullmatch=True),
              st.from_regex(r"[a-z]{2,8}", fullmatch=True),
              st.from_regex(r"[a-z]{3,10}", fullmatch=True)),
    st.builds("FI{:02d} {:04d} {:04d} {:04d} {:02d}".format, st.integers(10, 99),
              st.integers(0, 9999), st.integers(0, 9999), st.integers(0, 9999),
              st.integers(0, 99)),
)  # fmt: skip


@FUZZ
@given(before=TEXT, secret=SECRET, after=TEXT)
def test_personal_data_never_survives_redaction_in_any_context(before, secret, after):
    redacted = redact(f"{before} {secret} {after}")
    assert secret not in redacted
    assert redact(redacted) == redacted  # placeholders are stable


# --- The REST channel of the real server ---------------------------------------------------------

JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
MESSAGE = st.one_of(
    NLU_TEXT,
    JSON_TEXT,
    st.builds("/{}{}".format, st.sampled_from(["greet", "restart", "change_language", "x"]),
              st.one_of(st.just(""), JSON_VALUE.map(json.dumps), TEXT)),
)  # fmt: skip
BODY = st.fixed_dictionaries(
    {"sender": st.one_of(st.builds(lambda: f"fuzz-{uuid.uuid4().hex[:10]}"), JSON_VALUE)},
    optional={
        "message": st.one_of(MESSAGE, MESSAGE, JSON_VALUE),
        "metadata": st.one_of(
            st.fixed_dictionaries({"language": st.one_of(st.sampled_from(["fi", "ar"]), TEXT)}),
            JSON_VALUE,
        ),
        "input_channel": JSON_VALUE,
    },
)


def well_formed(body: dict) -> bool:
    sender = body.get("sender")
    return (
        isinstance(sender, str)
        and sender.startswith("fuzz-")
        and isinstance(body.get("message"), str)
    )


@pytest.mark.e2e
@E2E_FUZZ
@given(body=BODY)
def test_rest_channel_answers_any_body_without_a_5xx(bot, body):
    raw = json.dumps(body)  # lone surrogates travel as \ud800 escapes, as any client may send
    response = bot.http.post(
        f"{bot.base_url}/webhooks/rest/webhook",
        data=raw.encode("utf-8"),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text
    if well_formed(body):
        assert response.status_code == 200, (body, response.text[:300])
        replies = response.json()
        assert replies and all(r["recipient_id"] == body["sender"] for r in replies)
    else:
        assert response.status_code in (200, 400)
