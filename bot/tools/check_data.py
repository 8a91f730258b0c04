"""Checks that every language has everything, derived from topics.yml (``make check-data``).

For each supported language (``languages:`` of topics.yml): a locale with every text key, web page
text, topic label and language name; n-gram models for language detection; NLU examples for every
intent; content for every topic; every specific answer with its text, its examples, an official
source and a recent check date. Also: every link is the language version it claims to be, the
held-out test sets share no sentence with the training data, and our topics.yml extends the shared
taxonomy. What a new language or topic needs: docs/adding-a-language.md, docs/adding-a-topic.md.
"""

from __future__ import annotations

import datetime
import re
import statistics
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from bot.core.paths import data_path, project_root
from bot.core.taxonomy import load_taxonomy, taxonomy
from bot.core.yamlio import load_yaml
from bot.langid.lingua_models import LANGUAGES as LINGUA_LANGUAGES
from bot.langid.lingua_models import REQUIREMENT as LINGUA_REQUIREMENT
from bot.tools.web_i18n import WEB_TEXT_KEYS

MIN_TOPIC_EXAMPLES = 20
MIN_CONVERSATION_EXAMPLES = 10
REFERENCE_LOCALE = "en"
# Specific answers (issue #12): at least this many per topic, this many on average, each with this
# many training examples per language, and a fact checked within this many days.
MIN_ANSWERS_PER_TOPIC = 4
MIN_ANSWERS_MEAN = 8
MIN_ANSWER_EXAMPLES = 3
REVIEW_MAX_DAYS = 365
# Liferay sites (migri.fi, intermin.fi, tem.fi) name a page's language in this query parameter.
LANGUAGE_QUERY = "languageId"


def answer_examples(path: Path) -> Counter:
    """(topic, answer id) -> number of distinct examples in the NLU files below ``path``."""
    found: dict[tuple[str, str], set[str]] = {}
    for file in sorted(path.rglob("*.yml")) if path.is_dir() else []:
        for block in (load_yaml(file) or {}).get("nlu") or []:
            answer = (block.get("metadata") or {}).get("answer")
            if "intent" in block and answer:
                lines = [line.strip()[2:].strip() for line in block["examples"].splitlines()]
                found.setdefault((block["intent"], answer), set()).update(x for x in lines if x)
    return Counter({key: len(texts) for key, texts in found.items()})


def nlu_examples(path: Path) -> dict[str, list[str]]:
    """intent -> examples of every Rasa NLU YAML file below ``path``."""
    found: dict[str, list[str]] = {}
    if not path.exists():
        return found
    files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    for file in files:
        for block in (load_yaml(file) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            lines = [line.strip()[2:].strip() for line in block["examples"].splitlines()]
            found.setdefault(block["intent"], []).extend(line for line in lines if line)
    return found


def normalise(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def required_names(code: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    """The languages ``locales/<code>.yml`` must name: itself and every language listed before it
    in topics.yml. A language added later (at the end of the list) names all the others in its own
    file; the older locales may name it too (:func:`unnamed_languages`), but need not: the
    language is known everywhere by its own name and its English one."""
    return languages[: languages.index(code) + 1]


def check_locales() -> list[str]:
    tax = taxonomy()
    problems = []
    reference = load_yaml(data_path("locales", f"{REFERENCE_LOCALE}.yml"))
    for code in tax.languages:
        path = data_path("locales", f"{code}.yml")
        if not path.exists():
            problems.append(f"{code}: missing {path.name}")
            continue
        raw = load_yaml(path) or {}
        meta = raw.get("language") or {}
        if meta.get("code") != code:
            problems.append(f"{code}: {path.name} says language.code {meta.get('code')!r}")
        for key in ("name", "english_name"):
            if not meta.get(key):
                problems.append(f"{code}: locale lacks language.{key}")
        if meta.get("direction", "ltr") not in ("ltr", "rtl"):
            problems.append(f"{code}: language.direction must be ltr or rtl")
        missing = set(reference["texts"]) - set(raw.get("texts") or {})
        if missing:
            problems.append(f"{code}: locale lacks texts {sorted(missing)}")
        missing_topics = set(tax.topic_ids) - set(raw.get("topics") or {})
        if missing_topics:
            problems.append(f"{code}: locale lacks topic labels {sorted(missing_topics)}")
        names = meta.get("names") or {}
        missing_names = [
            lang for lang in required_names(code, tax.languages) if not names.get(lang)
        ]
        if missing_names:
            problems.append(f"{code}: locale lacks language names for {missing_names}")
        missing_web = [key for key in WEB_TEXT_KEYS if not (raw.get("web") or {}).get(key)]
        if missing_web:
            problems.append(f"{code}: locale lacks web page texts {missing_web}")
        emergency = raw.get("emergency") or {}
        if not (emergency.get("cues") and emergency.get("bare")):
            problems.append(f"{code}: locale lacks emergency cues and bare cries for help")
    return problems


def unnamed_languages() -> dict[str, list[str]]:
    """language -> the locales that do not name it (optional: see :func:`required_names`)."""
    tax = taxonomy()
    missing: dict[str, list[str]] = {}
    for code in tax.languages:
        path = data_path("locales", f"{code}.yml")
        names = ((load_yaml(path) or {}).get("language") or {}).get("names") or {}
        for lang in tax.languages:
            if not names.get(lang):
                missing.setdefault(lang, []).append(code)
    return missing


def check_language_detection() -> list[str]:
    """Language detection learns a language from lingua's n-gram models (bot/langid/): only the
    languages the pinned release has models for can be supported."""
    return [
        f"{code}: {LINGUA_REQUIREMENT} has no n-gram models for it, language detection cannot "
        "learn it (bot/langid/lingua_models.py)"
        for code in taxonomy().languages
        if code not in LINGUA_LANGUAGES
    ]


def check_nlu() -> list[str]:
    tax = taxonomy()
    problems = []
    for code in tax.languages:
        examples = nlu_examples(data_path("data", "nlu", code))
        for intent in tax.intents:
            need = MIN_TOPIC_EXAMPLES if tax.is_topic(intent) else MIN_CONVERSATION_EXAMPLES
            have = len(set(examples.get(intent, [])))
            if have < need:
                problems.append(f"{code}: intent {intent} has {have} examples, needs {need}")
        unknown = set(examples) - set(tax.intents)
        if unknown:
            problems.append(f"{code}: examples for unknown intents {sorted(unknown)}")
    return problems


def check_nlu_schema() -> list[str]:
    """Rasa's schema check of every NLU file: training reads them with libyaml and skips it
    (bot/server/nlu/importer.py), so a malformed file is caught here."""
    from rasa.shared.exceptions import YamlException
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    problems = []
    for file in sorted(data_path("data", "nlu").rglob("*.yml")):
        reader = RasaYAMLReader()
        reader.filename = str(file)
        try:
            reader.validate(file.read_text("utf-8"))
        except YamlException as error:
            problems.append(f"{file.relative_to(project_root())}: {error}")
    return problems


def check_content() -> list[str]:
    tax = taxonomy()
    problems = []
    sources = load_yaml(data_path("content", "sources.yml")) or {}
    for topic in tax.topic_ids:
        meta = sources.get(topic) or {}
        if not meta.get("pages"):
            problems.append(f"content: {topic} has no official page")
        for versions in meta.get("pages") or []:
            for lang, link in versions.items():
                if not str(link.get("url", "")).startswith("https://"):
                    problems.append(f"content: {topic} {lang} link is not https")
    for code in tax.languages:
        path = data_path("content", f"{code}.yml")
        texts = ((load_yaml(path) or {}).get("topics") or {}) if path.exists() else {}
        for topic in tax.topic_ids:
            entry = texts.get(topic) or {}
            if not (entry.get("title") and entry.get("answer")):
                problems.append(f"{code}: no content for {topic}")
    return problems


def url_language(url: str) -> str | None:
    """The language a URL says its page is in (``/sv/...``, ``?languageId=en_US``), or None
    when it does not say."""
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if key == LANGUAGE_QUERY and value[:2].lower() in taxonomy().languages:
            return value[:2].lower()
    segments = [s for s in parts.path.split("/") if s]
    first = segments[1] if segments[:1] == ["web"] and len(segments) > 1 else (segments or [""])[0]
    return first if first in taxonomy().languages else None


def _page_problems(where: str, pages: list, *, required: bool = True) -> list[str]:
    """Links must be https and be the language version they are listed as."""
    problems = []
    if required and not pages:
        problems.append(f"{where}: no official page")
    for versions in pages or []:
        for lang, link in versions.items():
            url = str(link.get("url", ""))
            if not url.startswith("https://"):
                problems.append(f"{where}: {lang} link is not https")
            said = url_language(url)
            if said and said != lang:
                problems.append(f"{where}: the {lang} version links a {said} page ({url})")
    return problems


def check_answers(today: datetime.date | None = None) -> list[str]:
    """Every topic has specific answers with sources, fresh check dates, texts and examples."""
    tax = taxonomy()
    today = today or datetime.date.today()
    sources = load_yaml(data_path("content", "sources.yml")) or {}
    texts = {}
    for code in tax.languages:
        path = data_path("content", f"{code}.yml")
        texts[code] = ((load_yaml(path) or {}).get("answers") or {}) if path.exists() else {}
    problems, counts = [], []
    for topic in tax.topic_ids:
        meta = sources.get(topic) or {}
        problems += _page_problems(f"content: {topic}", meta.get("pages") or [], required=False)
        answers = meta.get("answers") or {}
        counts.append(len(answers))
        if len(answers) < MIN_ANSWERS_PER_TOPIC:
            problems.append(
                f"content: {topic} has {len(answers)} specific answers, needs "
                f"{MIN_ANSWERS_PER_TOPIC}"
            )
        for answer_id, answer in answers.items():
            where = f"content: {topic}/{answer_id}"
            problems += _page_problems(where, answer.get("pages") or [])
            try:
                checked = datetime.date.fromisoformat(str(answer.get("checked")))
            except ValueError:
                problems.append(f"{where}: no valid 'checked' date")
            else:
                if (today - checked).days > REVIEW_MAX_DAYS:
                    problems.append(f"{where}: fact checked {checked}, older than "
                                    f"{REVIEW_MAX_DAYS} days: check it again")  # fmt: skip
            for code in tax.languages:
                text = (texts[code].get(topic) or {}).get(answer_id) or {}
                if not (text.get("question") and text.get("answer")):
                    problems.append(f"{code}: no text for answer {topic}/{answer_id}")
    if counts and statistics.mean(counts) < MIN_ANSWERS_MEAN:
        problems.append(f"content: {statistics.mean(counts):.1f} specific answers per topic "
                        f"on average, needs {MIN_ANSWERS_MEAN}")  # fmt: skip
    return problems


def check_answer_examples() -> list[str]:
    """Every specific answer has training examples in every language, and no example names an
    answer the content does not have."""
    tax = taxonomy()
    sources = load_yaml(data_path("content", "sources.yml")) or {}
    known = {(t, a) for t in tax.topic_ids for a in (sources.get(t) or {}).get("answers") or {}}
    problems = []
    for code in tax.languages:
        counts = answer_examples(data_path("data", "nlu", code))
        for topic, answer_id in sorted(known):
            have = counts.get((topic, answer_id), 0)
            if have < MIN_ANSWER_EXAMPLES:
                problems.append(f"{code}: answer {topic}/{answer_id} has {have} examples, "
                                f"needs {MIN_ANSWER_EXAMPLES}")  # fmt: skip
        for topic, answer_id in sorted(set(counts) - known):
            problems.append(f"{code}: examples for unknown answer {topic}/{answer_id}")
    return problems


HELD_OUT_DIRS = ("nlu_eval", "emergency_eval")
# Held-out sets in rounds: tests/<name>/<round>/<code>.yml (NLU format).
HELD_OUT_ROUND_DIRS = ("everyday_probes",)
REAL_QUESTIONS_EVAL = ("real_questions", "eval.yml")
# tests/test_emergency.py asks the trained model this many held-out crisis messages per language.
MIN_EMERGENCY_EVAL = 10


def check_held_out_sets() -> list[str]:
    """Every language has its held-out test sets: tests/nlu_eval/<code>.yml (topic questions,
    ``make eval-nlu``) and tests/emergency_eval/<code>.yml (crisis messages,
    tests/test_emergency.py)."""
    problems = []
    for code in taxonomy().languages:
        topics = nlu_examples(data_path("tests", "nlu_eval", f"{code}.yml"))
        if not any(taxonomy().is_topic(intent) for intent in topics):
            problems.append(f"{code}: tests/nlu_eval/{code}.yml has no topic questions")
        crises = nlu_examples(data_path("tests", "emergency_eval", f"{code}.yml"))
        have = len(set(crises.get("emergency", [])))
        if have < MIN_EMERGENCY_EVAL:
            problems.append(f"{code}: tests/emergency_eval/{code}.yml has {have} emergency "
                            f"messages, needs {MIN_EMERGENCY_EVAL}")  # fmt: skip
    return problems


def check_eval_is_held_out() -> list[str]:
    """No sentence of a held-out test set may appear in the training data."""
    training = {
        normalise(text)
        for examples in nlu_examples(data_path("data", "nlu")).values()
        for text in examples
    }
    leaked = Counter()
    for name in HELD_OUT_DIRS:
        eval_dir = data_path("tests", name)
        for file in sorted(eval_dir.glob("*.yml")) if eval_dir.is_dir() else []:
            for examples in nlu_examples(file).values():
                leaked[f"{name}/{file.stem}"] += sum(normalise(t) in training for t in examples)
    for name in HELD_OUT_ROUND_DIRS:
        for file in sorted(data_path("tests", name).glob("*/*.yml")):
            where = f"{name}/{file.parent.name}/{file.stem}"
            for examples in nlu_examples(file).values():
                leaked[where] += sum(normalise(t) in training for t in examples)
    real = data_path("tests", *REAL_QUESTIONS_EVAL)
    for row in (load_yaml(real) or []) if real.exists() else []:
        leaked["real_questions/eval"] += normalise(str(row.get("text", ""))) in training
    return [
        f"{where}: {n} test sentences also in training data" for where, n in leaked.items() if n
    ]


def check_taxonomy_matches_shared() -> list[str]:
    """Our topics.yml extends ../shared/topics.yml (when it is there): all its topics, and its
    languages first, in its order; languages added here come after them."""
    shared = project_root().parent / "shared" / "topics.yml"
    if not shared.exists():
        return []
    ours, theirs = taxonomy(), load_taxonomy(shared)
    problems = []
    if ours.languages[: len(theirs.languages)] != theirs.languages:
        problems.append(
            "topics.yml: languages must start with those of ../shared/topics.yml, in its order"
        )
    if set(theirs.topic_ids) - set(ours.topic_ids):
        problems.append("topics.yml: lacks topics of ../shared/topics.yml")
    return problems


CHECKS = (
    check_locales,
    check_language_detection,
    check_nlu,
    check_nlu_schema,
    check_content,
    check_answers,
    check_answer_examples,
    check_held_out_sets,
    check_eval_is_held_out,
    check_taxonomy_matches_shared,
)


def all_problems() -> list[str]:
    return [problem for check in CHECKS for problem in check()]


def main() -> int:
    problems = all_problems()
    for problem in problems:
        print(problem, file=sys.stderr)
    for lang, locales in unnamed_languages().items():
        print(f"note: {lang} has no names in locales {', '.join(locales)} (optional)")
    print(f"check-data: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
