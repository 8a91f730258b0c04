"""Keep or switch the conversation's language after a user message.

Pure function of what the conversation knows, so that the rules are easy to test and to read:
1. an explicit request (a language name, a language button, /change_language) switches;
2. a new UI language from the channel (widget language picker) switches;
3. on the first turn, a reliable text decides, else the UI language, else a clear guess (one
   word such as "kiitos" or "привет"); a word that only leans one way ("asunto": fi 0.63 /
   es 0.37) gets that language but marked unsure, and a message too short to tell ("hi", "ok",
   "kela") the default language, marked unsure: both replies offer the language buttons and the
   next message is judged as a first one again;
4. later, only a reliable message in another supported language switches; short or uncertain
   messages ("ok", "kiitos", "1", an emoji) and messages in unsupported languages keep it;
   a message the NLU did not understand switches only when its language is very clear, so that
   gibberish ("qwrtzp xvbnm") does not move a conversation to Turkish.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_UNDERSTOOD_MIN_CONFIDENCE = 0.8
# A first message that is not reliable (one word) is still trusted at this confidence: 96.8% of
# the single words of ../shared/langid-dev detected at >= 0.7 are right (91% of them reach it);
# "asunto" (fi 0.63 / es 0.37), "ok", "hi" and "kela" stay below it, as issue #17 asks.
FIRST_GUESS_MIN_CONFIDENCE = 0.7
# Between this and the clear bar a word leans one way ("asunto", "bus"): the lean is right about
# twice as often as the English default would be (0.35-0.5: 28 against 13 of 63 single words of
# ../shared/langid-dev; 0.5-0.7: 127 against 42 of 205), so the reply takes the lean and still
# offers the language buttons (one tap to correct it). Below it ("taxi" so 0.31 before it became
# a neutral word; 0.3-0.35: 4 against 3 of 15) the default language answers; "hi", "ok", "kela"
# carry no evidence at all (bot/langid/neutral_words.txt). 0.5 until session 17: 92.55% of the
# single words through the bot, 93.02% at 0.35 (lines 1-125 92.92 -> 93.29, 126-250 92.18 -> 92.74).
FIRST_LEAN_MIN_CONFIDENCE = 0.35
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class LanguageEvidence:
    detected: str | None = None
    reliable: bool = False
    confidence: float = 0.0
    understood: bool = True
    unsupported: str | None = None
    explicit: str | None = None
    ui_language: str | None = None
    words: int = 0


@dataclass(frozen=True)
class LanguageDecision:
    language: str | None
    # explicit | ui | text | first_turn_ui | first_turn_guess | first_turn_lean | default | keep
    reason: str

    @property
    def unsure(self) -> bool:
        """Chosen for want of evidence: offer the language buttons, listen to the next message."""
        return self.reason in ("first_turn_lean", "default")


def decide_language(
    current: str | None,
    evidence: LanguageEvidence,
    previous_ui_language: str | None,
    supported: tuple[str, ...],
    unsure: bool = False,
) -> LanguageDecision:
    """``unsure``: ``current`` was only the default (see :attr:`LanguageDecision.unsure`)."""

    def ok(code: str | None) -> bool:
        return code is not None and code in supported

    if ok(evidence.explicit):
        return LanguageDecision(evidence.explicit, "explicit")
    ui_changed = ok(evidence.ui_language) and evidence.ui_language != previous_ui_language
    if current is not None and ui_changed and previous_ui_language is not None:
        return LanguageDecision(evidence.ui_language, "ui")
    if current is None or unsure:
        if evidence.reliable and ok(evidence.detected):
            return LanguageDecision(evidence.detected, "text")
        if ok(evidence.ui_language):
            return LanguageDecision(evidence.ui_language, "first_turn_ui")
        # Two words or more: the best guess is right 99% of the time on ../shared/langid-dev,
        # even below the reliability bar; one word needs a clear confidence.
        clear = evidence.words >= 2 or evidence.confidence >= FIRST_GUESS_MIN_CONFIDENCE
        if clear and ok(evidence.detected) and not evidence.unsupported:
            return LanguageDecision(evidence.detected, "first_turn_guess")
        if evidence.unsupported:
            return LanguageDecision(current, "keep")  # the reply names the languages we speak
        if ok(evidence.detected) and evidence.confidence >= FIRST_LEAN_MIN_CONFIDENCE:
            return LanguageDecision(evidence.detected, "first_turn_lean")
        return LanguageDecision(current or DEFAULT_LANGUAGE, "default")
    clear_enough = evidence.understood or evidence.confidence >= NOT_UNDERSTOOD_MIN_CONFIDENCE
    if evidence.reliable and clear_enough and ok(evidence.detected) and not evidence.unsupported:
        return LanguageDecision(evidence.detected, "text")
    return LanguageDecision(current, "keep")
