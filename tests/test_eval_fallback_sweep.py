"""The fallback sweep of `make eval-nlu` (bench/eval_nlu.py) recomputes Rasa's fallback rule
from a parse's ranking: what config.yml's thresholds are chosen by must match the classifier."""

from bench.eval_nlu import fallback_decision, fallback_settings


def _parse(intent: str, *ranking: tuple[str, float]) -> dict:
    return {
        "intent": {"name": intent},
        "intent_ranking": [{"name": name, "confidence": c} for name, c in ranking],
    }


CURRENT = (0.25, 0.05)


def test_a_near_tie_falls_back_only_under_a_wider_ambiguity_margin():
    parse = _parse("nlu_fallback", ("nlu_fallback", 0.25), ("housing", 0.40), ("health_care", 0.37))
    assert fallback_decision(parse, 0.25, 0.05, CURRENT) == "nlu_fallback"
    assert fallback_decision(parse, 0.25, 0.02, CURRENT) == "housing"


def test_low_confidence_falls_back_and_a_confident_topic_does_not():
    weak = _parse("housing", ("housing", 0.22), ("health_care", 0.05))
    strong = _parse("housing", ("housing", 0.9), ("health_care", 0.05))
    assert fallback_decision(weak, 0.2, 0.0, CURRENT) == "housing"
    assert fallback_decision(weak, 0.25, 0.0, CURRENT) == "nlu_fallback"
    assert fallback_decision(strong, 0.3, 0.05, CURRENT) == "housing"


def test_fallbacks_for_other_reasons_and_emergencies_are_kept():
    # confident and clear, yet a fallback: a language we don't speak, not a threshold
    unsupported = _parse("nlu_fallback", ("nlu_fallback", 1), ("housing", 0.9), ("tax", 0.05))
    assert fallback_decision(unsupported, 0.2, 0.0, CURRENT) == "nlu_fallback"
    danger = _parse("emergency", ("emergency", 1.0), ("housing", 0.3))
    assert fallback_decision(danger, 0.9, 0.5, CURRENT) == "emergency"


def test_the_settings_are_read_from_config_yml():
    threshold, ambiguity = fallback_settings()
    assert 0 < threshold < 1 and 0 <= ambiguity < threshold
