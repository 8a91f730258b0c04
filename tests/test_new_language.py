"""A fourteenth language, added by following docs/adding-a-language.md (issue #16).

In a copy of the project (the files git knows, without .venv and models/), a newcomer adds a
fixture German: the files the doc lists and no others (the doc's tables are read here and
compared with what changed), then the doc's commands. In that copy, the project's own checks
(`make check-data`, read from the Makefile) pass, and the language is supported everywhere: the
locale, the domain's slot, the language policy, explicit requests, emergency cues, the web page's
texts, language detection (tables built for the new list) and a small NLU model trained on the
new language's examples with the project's pipeline.

The fixture's examples are few and made from templates: enough for the checks' minimums, not a
translation.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "adding-a-language.md"
CODE = "de"
EDITED_SECTION = "## The files you add or change"
REWRITTEN_SECTION = "## The files the commands rewrite"
IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".rasa"}
TIMEOUT = 600

# --- the fixture language ----------------------------------------------------------------------

NAME, ENGLISH_NAME = "Deutsch", "German"
# How German speakers name the languages (any other language of topics.yml: its English name).
NAMES = {
    "fi": ["finnisch", "auf finnisch"], "sv": ["schwedisch", "auf schwedisch"],
    "en": ["englisch", "auf englisch"], "ru": ["russisch", "auf russisch"],
    "uk": ["ukrainisch", "auf ukrainisch"], "ar": ["arabisch", "auf arabisch"],
    "so": ["somali", "auf somali"], "fa": ["persisch", "farsi", "auf persisch"],
    "et": ["estnisch", "auf estnisch"], "tr": ["türkisch", "auf türkisch"],
    "zh": ["chinesisch", "auf chinesisch"], "es": ["spanisch", "auf spanisch"],
    "fr": ["französisch", "auf französisch"], "de": ["deutsch", "auf deutsch"],
}  # fmt: skip
# Two ways to name each topic (a topic missing here is named by its id).
TOPICS = {
    "integration_basics": ["Integration in Finnland", "Integrationspolitik"],
    "integration_law": ["Integrationsgesetz", "Gesetz 681/2023"],
    "partnership_programme": ["Partnerschaftsprogramm", "Partnernetzwerk für Integration"],
    "family_reunification": ["Familienzusammenführung", "Familiennachzug"],
    "children_and_youth": ["unbegleitete Minderjährige", "Unterstützung für Jugendliche"],
    "employment": ["Arbeitssuche", "Anerkennung von Abschlüssen"],
    "work_based_immigration": ["Arbeitserlaubnis", "Einwanderung zum Arbeiten"],
    "integration_services": ["Integrationsdienste", "Beratung in der Muttersprache"],
    "initial_assessment": ["Ersteinschätzung", "Erstgespräch beim Amt"],
    "integration_plan": ["Integrationsplan", "persönlicher Integrationsplan"],
    "language_training": ["Finnischkurs", "Sprachkurs"],
    "international_protection": ["Flüchtlingsstatus", "subsidiärer Schutz"],
    "temporary_protection": ["vorübergehender Schutz", "Schutz für Ukrainer"],
    "asylum": ["Asylantrag", "Aufnahmezentrum"],
    "quota_refugees": ["Flüchtlingsquote", "Quotenflüchtlinge"],
    "municipal_reception": ["Umzug in eine Gemeinde", "Gemeindeplatz für Flüchtlinge"],
    "state_compensation": ["staatliche Kostenerstattung", "Erstattung an Gemeinden"],
    "integration_actors": ["Zuständigkeit der Behörden", "Aufgaben der ELY-Zentren"],
    "tools_for_actors": ["Handbücher für Fachleute", "Schulungen für Fachkräfte"],
    "regional_cooperation": ["regionale Zusammenarbeit", "kommunales Integrationsprogramm"],
    "residence_permit": ["Aufenthaltserlaubnis", "Aufenthaltstitel"],
    "citizenship": ["Staatsbürgerschaft", "Einbürgerung"],
    "housing": ["Wohnungssuche", "Mietvertrag"],
    "health_care": ["Gesundheitszentrum", "Arzttermin"],
    "social_security": ["Kindergeld", "Sozialleistungen von Kela"],
    "registration_and_identity": ["Personenkennzahl", "Wohnsitzanmeldung"],
    "taxation": ["Steuerkarte", "Steuererklärung"],
    "education_and_daycare": ["Kindergarten", "Schulpflicht"],
}
TOPIC_TEMPLATES = (
    "Ich habe eine Frage zu {}", "was muss ich über {} wissen", "wie funktioniert {} in Finnland",
    "Informationen über {} bitte", "wo bekomme ich Unterstützung bei {}",
    "können Sie mir {} erklären", "{}", "ich brauche Rat wegen {}", "wer ist zuständig für {}",
    "was bedeutet {} für mich",
)  # fmt: skip
HELD_OUT_TEMPLATES = ("erzähl mir bitte etwas über {}", "gibt es eine Seite über {}?")
ANSWER_TEMPLATES = ("{answer} {topic}", "Frage zu {answer} bei {topic}", "{topic}: {answer}?")
CONVERSATION = {
    "greet": ["hallo", "guten tag", "guten morgen", "guten abend", "hallo kotobot", "servus",
              "moin", "grüß gott", "hallo zusammen", "hallo, ich habe eine frage"],
    "goodbye": ["tschüss", "auf wiedersehen", "bis bald", "bis später", "ciao",
                "schönen tag noch", "ich gehe jetzt", "bis zum nächsten mal", "gute nacht",
                "auf wiederhören"],
    "thank": ["danke", "vielen dank", "danke schön", "dankeschön", "herzlichen dank",
              "danke für die auskunft", "tausend dank", "danke sehr", "das hat mir geholfen",
              "besten dank"],
    "affirm": ["ja", "ja bitte", "genau", "richtig", "stimmt", "okay ja", "ja gerne",
               "auf jeden fall", "jawohl", "ja das stimmt"],
    "deny": ["nein", "nein danke", "eher nicht", "auf keinen fall", "nicht wirklich",
             "nein das ist falsch", "stimmt nicht", "nö", "lieber nicht", "nein nicht das"],
    "bot_challenge": ["bist du ein bot", "bist du ein mensch", "rede ich mit einem menschen",
                      "bist du eine maschine", "bist du echt", "bist du ein roboter",
                      "bin ich mit einem computer verbunden", "wer bist du eigentlich",
                      "bist du künstliche intelligenz", "spreche ich mit einer person"],
    "help": ["was kannst du", "welche themen gibt es", "wobei kannst du helfen",
             "was kann ich dich fragen", "zeig mir die themen", "menü",
             "wie funktioniert das hier", "welche fragen beantwortest du", "übersicht bitte",
             "hilf mir bitte"],
    "change_language": ["auf Deutsch bitte", "kannst du Deutsch sprechen", "bitte auf Englisch",
                        "sprache ändern", "andere sprache bitte", "antworte auf Finnisch",
                        "ich möchte auf Deutsch schreiben", "sprichst du Deutsch",
                        "wechsle die sprache", "bitte auf Schwedisch antworten"],
    "contact_human": ["ich möchte mit einem menschen sprechen", "kann ich einen berater sprechen",
                      "gibt es eine persönliche beratung", "ich brauche einen dolmetscher",
                      "mit einer person reden bitte", "wie erreiche ich einen mitarbeiter",
                      "telefonnummer der beratung", "ich will mit jemandem reden",
                      "persönliche hilfe bitte", "wo bekomme ich persönliche beratung"],
    "feedback_positive": ["das war hilfreich", "super antwort", "sehr gut erklärt",
                          "toll, das hilft", "gute antwort", "perfekt", "das war nützlich",
                          "prima", "klasse info", "genau was ich brauchte"],
    "feedback_negative": ["das war nicht hilfreich", "schlechte antwort", "das hilft mir nicht",
                          "falsche antwort", "das verstehe ich nicht", "nutzlos",
                          "das beantwortet meine frage nicht", "nicht gut", "unklar erklärt",
                          "das stimmt so nicht"],
    "out_of_scope": ["wie wird das wetter morgen", "erzähl mir einen witz",
                     "wer gewinnt die fußball wm", "was ist die hauptstadt von peru",
                     "kannst du pizza bestellen", "wie alt bist du", "empfiehl mir einen film",
                     "wie koche ich nudeln", "was kostet ein neues handy", "sing ein lied"],
    "emergency": ["mein mann schlägt mich", "ich will mich umbringen", "mein vater atmet nicht",
                  "es brennt in der küche", "wir brauchen sofort einen krankenwagen",
                  "er droht mich zu töten", "das kind ist in den see gefallen",
                  "ich habe zu viele tabletten genommen", "jemand ist in die wohnung eingebrochen",
                  "polizei sofort bitte"],
}  # fmt: skip
EMERGENCY_HELD_OUT = [
    "meine freundin atmet nicht mehr",
    "er schlägt mich jeden abend",
    "ich will nicht mehr leben",
    "feuer im treppenhaus",
    "mein sohn ist bewusstlos",
    "der nachbar droht mich zu töten",
    "bitte schnell einen krankenwagen",
    "meine mutter hat einen herzinfarkt",
    "ein mann mit messer ist vor meiner tür",
    "das baby hat reiniger getrunken",
]
EMERGENCY = {
    "cues": {
        "suicide": ["selbstmord", "mich umbringen", "nicht mehr leben"],
        "violence": ["schlägt mich", "schlägt meine", "geschlagen"],
        "threat": ["droht mich zu töten", "mit messer", "will mich töten"],
        "medical": ["atmet nicht", "krankenwagen", "herzinfarkt", "bewusstlos",
                    "tabletten genommen"],
        "fire": ["es brennt", "feuer im", "brand in"],
        "poisoning": ["reiniger getrunken", "vergiftet"],
        "drowning": ["in den see gefallen", "ertrinkt"],
    },
    "bare": ["hilfe", "hilfe hilfe", "notfall", "polizei", "krankenwagen", "feuerwehr", "sos",
             "112"],
    "ordinary": ["wie beantrage", "öffnungszeiten", "wie viel kostet", "telefonnummer"],
}  # fmt: skip
WEB = {
    "language_label": "Sprache", "input_hint": "Schreiben Sie Ihre Frage…",
    "connecting": "Verbindung wird hergestellt…", "send": "Senden", "typing": "Kotobot schreibt…",
    "offline": "Keine Verbindung. Neuer Versuch… Ihre Nachricht wird dann gesendet.",
    "reconnected": "Wieder verbunden.", "queued": "wartet auf Versand", "you": "Sie",
    "conversation": "Gespräch", "skip_to_input": "Zum Eingabefeld springen",
    "new_tab": "öffnet in einem neuen Tab",
    "pages_other_language": "Eine Sprache in Klammern: die Seite gibt es nicht auf Deutsch.",
}  # fmt: skip
TEXTS = {
    "greet": "Hallo! Ich bin Kotobot, ein automatischer Assistent für Fragen zur Integration in "
    "Finnland. Was möchten Sie wissen?",
    "ask_language": "In welcher Sprache soll ich antworten?",
    "language_changed": "Gut, ich antworte ab jetzt auf {language_name}.",
    "unsupported_language": "Diese Sprache spreche ich noch nicht. Bitte wählen Sie eine dieser "
    "Sprachen:",
    "privacy_notice": "Bitte schreiben Sie keine persönlichen Daten wie Ihre Personenkennzahl.",
}
GERMAN_QUESTION = "Wie bekomme ich eine Aufenthaltserlaubnis in Finnland?"


def keywords(topic: str) -> list[str]:
    return TOPICS.get(topic) or [topic.replace("_", " "), f"Thema {topic.replace('_', ' ')}"]


def conversation_examples(intent: str) -> list[str]:
    """The fixture's examples (an intent added to topics.yml later: placeholders)."""
    return CONVERSATION.get(intent) or [f"{intent.replace('_', ' ')} {n}" for n in range(10)]


def nlu_file(blocks: list[dict]) -> str:
    """Rasa 3.x NLU YAML, examples as block literals like the project's own files."""
    lines = ['version: "3.1"', "nlu:"]
    for block in blocks:
        lines.append(f"- intent: {block['intent']}")
        if block.get("answer"):
            lines += ["  metadata:", f"    answer: {block['answer']}"]
        lines.append("  examples: |")
        lines += [f"    - {example}" for example in block["examples"]]
    return "\n".join(lines) + "\n"


def dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def add_language(root: Path) -> None:
    """What the newcomer does by hand: docs/adding-a-language.md's first table, nothing else."""
    topics_yml = root / "topics.yml"
    text = topics_yml.read_text("utf-8")
    line = re.search(r"^languages: \[(.*)\]$", text, re.MULTILINE)
    assert line, "topics.yml: no one-line `languages: [...]`"
    text = text.replace(line.group(0), f"languages: [{line.group(1)}, {CODE}]")
    topics_yml.write_text(text, "utf-8")
    taxonomy = yaml.safe_load(text)
    languages = [*taxonomy["languages"]]
    topic_ids = list(taxonomy["topics"])
    sources = yaml.safe_load((root / "content" / "sources.yml").read_text("utf-8"))
    answers = {t: list((sources.get(t) or {}).get("answers") or {}) for t in topic_ids}

    english = yaml.safe_load((root / "locales" / "en.yml").read_text("utf-8"))
    locale = {
        "language": {
            "code": CODE,
            "name": NAME,
            "english_name": ENGLISH_NAME,
            "direction": "ltr",
            "names": {
                code: NAMES.get(code) or [english["language"]["names"].get(code, [code])[0]]
                for code in languages
            },
        },
        "texts": {**english["texts"], **TEXTS},
        "topics": {topic: keywords(topic)[0] for topic in topic_ids},
        "emergency": EMERGENCY,
        "web": {key: WEB.get(key, value) for key, value in english["web"].items()},
    }
    (root / "locales" / f"{CODE}.yml").write_text(dump(locale), "utf-8")

    nlu = root / "data" / "nlu" / CODE
    nlu.mkdir()
    topic_blocks = [
        {"intent": t, "examples": [tpl.format(kw) for kw in keywords(t) for tpl in TOPIC_TEMPLATES]}
        for t in topic_ids
    ]
    (nlu / "topics.yml").write_text(nlu_file(topic_blocks), "utf-8")
    conversation = [
        {"intent": intent, "examples": conversation_examples(intent)}
        for intent in taxonomy["conversation_intents"]
        if intent != "emergency"
    ]
    (nlu / "conversation.yml").write_text(nlu_file(conversation), "utf-8")
    emergency = [{"intent": "emergency", "examples": CONVERSATION["emergency"]}]
    (nlu / "emergency.yml").write_text(nlu_file(emergency), "utf-8")
    answer_blocks = [
        {
            "intent": topic,
            "answer": answer,
            "examples": [
                tpl.format(answer=answer.replace("_", " "), topic=keywords(topic)[0])
                for tpl in ANSWER_TEMPLATES
            ],
        }
        for topic in topic_ids
        for answer in answers[topic]
    ]
    (nlu / "answers.yml").write_text(nlu_file(answer_blocks), "utf-8")

    content = {
        "topics": {
            topic: {
                "title": keywords(topic)[0],
                "answer": f"Offizielle Informationen zum Thema {keywords(topic)[0]}.",
            }
            for topic in topic_ids
        },
        "answers": {
            topic: {
                answer: {
                    "question": f"{answer.replace('_', ' ')}?",
                    "answer": f"Kurz: {answer.replace('_', ' ')}. Mehr auf den Seiten unten.",
                }
                for answer in answers[topic]
            }
            for topic in topic_ids
        },
    }
    (root / "content" / f"{CODE}.yml").write_text(dump(content), "utf-8")

    held_out = [
        {"intent": t, "examples": [tpl.format(keywords(t)[1]) for tpl in HELD_OUT_TEMPLATES]}
        for t in topic_ids
    ]
    (root / "tests" / "nlu_eval" / f"{CODE}.yml").write_text(nlu_file(held_out), "utf-8")
    crises = [
        {"intent": "emergency", "examples": EMERGENCY_HELD_OUT},
        {"intent": "health_care", "examples": ["öffnungszeiten vom gesundheitszentrum"]},
    ]
    (root / "tests" / "emergency_eval" / f"{CODE}.yml").write_text(nlu_file(crises), "utf-8")


# --- the doc, the Makefile, the copy -----------------------------------------------------------


def doc_section(title: str) -> str:
    text = DOC.read_text("utf-8")
    start = text.index(title + "\n")
    end = text.find("\n## ", start + len(title))
    return text[start : end if end != -1 else None]


def doc_files(title: str) -> list[str]:
    """The paths in the first column of the section's table, ``<code>`` filled in."""
    paths = re.findall(r"^\| `([^`]+)` \|", doc_section(title), re.MULTILINE)
    assert paths, f"{DOC.name}: no table of files under {title!r}"
    return [path.replace("<code>", CODE) for path in paths]


def doc_commands() -> list[list[str]]:
    """The doc's Python commands (``.venv/bin/python -m ...``), in order."""
    block = re.search(r"^## Commands\n+```sh\n(.*?)```", DOC.read_text("utf-8"), re.M | re.S)
    assert block, f"{DOC.name}: no ```sh block under ## Commands"
    commands = []
    for line in block.group(1).splitlines():
        words = line.split("#", 1)[0].split()
        if words[:1] == [".venv/bin/python"]:
            commands.append(words[1:])
    return commands


def make_recipe(target: str) -> list[list[str]]:
    """The Python commands of a Makefile target (``$(BIN)/python ...`` lines)."""
    text = (ROOT / "Makefile").read_text("utf-8")
    recipe = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert recipe, f"Makefile: no target {target}"
    return [
        line.strip().split()[1:]
        for line in recipe.group(1).splitlines()
        if line.strip().startswith("$(BIN)/python ")
    ]


def project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode("utf-8").split("\0")  # fmt: skip
    return [
        name
        for name in listed
        if name and (ROOT / name).is_file() and name.split("/")[0] not in (".venv", "models")
    ]


def snapshot(root: Path) -> dict[str, str]:
    files = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not IGNORED_PARTS.intersection(relative.parts):
            files[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def environment_tables() -> dict[str, float]:
    """The language-detection tables the environment holds (`make install`, `make train`)."""
    folder = Path(sys.prefix) / "share" / "kotobot"
    return {path.name: path.stat().st_mtime for path in folder.glob("*.npz")}


def run(root: Path, args: list[str], tables: Path, timeout: int = TIMEOUT) -> str:
    """``python args`` in the copy, on the copy's code and data; the detection tables in
    ``tables`` (never the environment's)."""
    env = {
        **os.environ,
        "KOTOBOT_HOME": str(root),
        "PYTHONPATH": str(root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "KOTOBOT_LANGID_TABLES": str(tables / "lingua.npz"),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.pop("KOTOBOT_CONFIG", None)
    done = subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"python {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def run_script(root: Path, script: str, tables: Path, timeout: int = TIMEOUT) -> str:
    return run(root, ["-c", textwrap.dedent(script)], tables, timeout)


@pytest.fixture(scope="module")
def added(tmp_path_factory):
    """(copy, tables folder, files changed): the language added as the doc says."""
    base = tmp_path_factory.mktemp("new-language")
    root, tables = base / "main", base / "tables"
    for name in project_files():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    tables.mkdir()
    shared = ROOT.parent / "shared"  # the shared taxonomy, which ours must extend (check-data)
    if shared.is_dir():
        (base / "shared").symlink_to(shared, target_is_directory=True)
    before = snapshot(root)
    add_language(root)
    for command in doc_commands():
        run(root, command, tables)
    after = snapshot(root)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    return root, tables, changed


@pytest.fixture(scope="module")
def detection_tables(added) -> dict[str, float]:
    """The copy's language-detection tables, built as `make train` does (~45 s: n-grams ~20 s,
    words ~25 s), in the tables folder. Returns the environment's tables as they were before."""
    root, tables, _ = added
    before = environment_tables()
    run(root, ["-m", "bot.langid.ngram_tables"], tables)
    run(root, ["-m", "bot.langid.words"], tables)
    return before


# --- the tests ---------------------------------------------------------------------------------


def test_only_the_files_the_doc_lists_change(added):
    _, _, changed = added
    edited, rewritten = doc_files(EDITED_SECTION), doc_files(REWRITTEN_SECTION)
    assert {"topics.yml", f"locales/{CODE}.yml"} <= set(edited)
    assert doc_commands(), "the doc names the commands to run"
    unlisted = sorted(n for n in changed if not any(fnmatch.fnmatch(n, p) for p in edited))
    assert set(unlisted) <= set(rewritten), f"changed but not in the doc's first table: {unlisted}"
    untouched = [p for p in edited + rewritten if not any(fnmatch.fnmatch(n, p) for n in changed)]
    assert untouched == [], f"listed in the doc but not needed: {untouched}"


def test_the_projects_data_checks_pass(added):
    root, tables, _ = added
    commands = make_recipe("check-data")
    assert any("bot.tools.check_data" in command for command in commands)
    for command in commands:
        run(root, command, tables)


def test_the_language_is_supported_everywhere(added):
    root, tables, _ = added
    out = run_script(
        root,
        f"""
        import json
        from pathlib import Path

        import bot
        from bot.core.locales import get_locale, right_to_left_languages, supported_languages
        from bot.core.paths import project_root
        from bot.core.yamlio import load_yaml
        from bot.langid.tracking import language_updates
        from bot.server.nlu.emergency_cues import GENERAL, emergency_cues
        from bot.server.nlu.gazetteer import language_name_patterns
        from bot.tools.web_i18n import build

        root = Path({str(root)!r})
        assert Path(bot.__file__).parent == root / "bot", bot.__file__
        assert project_root() == root
        assert supported_languages()[-1] == "{CODE}" and len(supported_languages()) == 14
        locale = get_locale("{CODE}")
        assert (locale.code, locale.name, locale.direction) == ("{CODE}", "{NAME}", "ltr")
        assert right_to_left_languages() == ("ar", "fa")
        domain = load_yaml(root / "domain.yml")
        assert "{CODE}" in domain["slots"]["language"]["values"]
        page = json.loads((root / "web" / "i18n.json").read_text("utf-8"))
        assert page["order"][-1] == "{CODE}" and page == build()
        assert page["languages"]["{CODE}"]["dir"] == "ltr"
        assert page["languages"]["{CODE}"]["send"] == "Senden"

        # The language policy: a language button, an explicit request, the UI, a detection.
        button = {{"text": "/change_language", "intent": {{"name": "change_language"}},
                   "entities": [{{"entity": "language", "value": "{CODE}"}}]}}
        assert language_updates(button, None, "fi", None) == {{"language": "{CODE}"}}
        ui = {{"text": "/citizenship", "intent": {{"name": "citizenship"}}}}
        assert language_updates(ui, {{"language": "{CODE}-AT"}}, None, None) == {{
            "language": "{CODE}", "ui_language": "{CODE}"}}
        said = {{"text": "{GERMAN_QUESTION}", "intent": {{"name": "residence_permit"}},
                 "language": {{"language": "{CODE}", "reliable": True, "confidence": 0.99,
                               "words": 7}}}}
        assert language_updates(said, None, "en", None) == {{"language": "{CODE}"}}

        # "auf Deutsch", "German" (English name), "Deutsch" (autonym): explicit requests.
        found = {{}}
        for pattern, names in language_name_patterns():
            for text in ("bitte auf deutsch", "in German please", "Deutsch"):
                for match in pattern.finditer(text.lower()):
                    found[text] = names[match.group()]
        assert set(found.values()) == {{"{CODE}"}} and len(found) == 3, found
        assert emergency_cues().check("hilfe!!").category == GENERAL
        print("ok")
        """,
        tables,
    )
    assert out.strip().endswith("ok")


def test_language_detection_learns_the_language(added, detection_tables):
    """The n-gram tables are built for topics.yml's 14 languages from lingua's models (as `make
    train` does); the word table gets German's frequency list and its own texts. Both are built
    where KOTOBOT_LANGID_TABLES says, never in the environment."""
    root, tables, _ = added
    out = run_script(
        root,
        f"""
        from bot.core.locales import supported_languages
        from bot.langid.detector import LanguageDetector
        from bot.langid.ngram_tables import default_path

        languages = supported_languages()
        assert default_path(languages).is_file()
        detector = LanguageDetector(languages)
        for text in ({GERMAN_QUESTION!r}, "Wo finde ich einen Sprachkurs?", "vielen Dank"):
            found = detector.detect(text)
            assert found.language == "{CODE}" and found.unsupported is None, (text, found)
        assert detector.detect("Miten haen oleskelulupaa?").language == "fi"
        assert detector._words.table.languages == languages
        assert detector._words.table.depth[languages.index("{CODE}")] > 0  # wordfreq's list
        print("ok")
        """,
        tables,
    )
    assert out.strip().endswith("ok")
    assert environment_tables() == detection_tables, "the environment's tables were changed"


def test_an_nlu_model_trained_on_the_new_language_parses_it(added, detection_tables, tmp_path):
    """The project's pipeline (config.yml) trained on the new language's examples alone (~30 s),
    then a German question parsed: its language, intent and an explicit request."""
    root, tables, _ = added
    out = run_script(
        root,
        f"""
        import asyncio

        from rasa.core.agent import Agent
        from rasa.model_training import train_nlu

        model = train_nlu("config.yml", "data/nlu/{CODE}", output={str(tmp_path)!r},
                          fixed_model_name="nlu-{CODE}")
        agent = Agent.load(model)
        parse = asyncio.run(agent.parse_message({GERMAN_QUESTION!r}))
        assert parse["language"]["language"] == "{CODE}", parse["language"]
        assert parse["intent"]["name"] == "residence_permit", parse["intent"]
        switch = asyncio.run(agent.parse_message("bitte auf Deutsch"))
        values = [e["value"] for e in switch["entities"] if e["entity"] == "language"]
        assert values == ["{CODE}"], switch["entities"]
        print("ok")
        """,
        tables,
    )
    assert out.strip().endswith("ok")
