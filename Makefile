# Kotobot: `make run` to start everything, `make test` to check everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
MODEL := models/kotobot.tar.gz
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

# Everything a trained model depends on: retrain only when one of these changed.
TRAIN_INPUTS := config.yml domain.yml topics.yml $(wildcard locales/*.yml) \
	$(shell find data bot/server/nlu bot/langid -type f \( -name '*.yml' -o -name '*.py' -o -name '*.txt' \) 2>/dev/null)

.PHONY: help install install-runtime lock check-lock train run test lint check-data validate pytest \
	test-stories bench eval-nlu report retention generate web bench-quick clean check-settings

help:
	@echo "make run    set up, train if needed, start action server :5055, Rasa :5005, web page :8080"
	@echo "make test   lint, data checks, rasa data validate, train, pytest, rasa test stories"
	@echo "make install (runtime + dev) | install-runtime | lock [UPGRADE=name] | check-lock"
	@echo "make train | bench | generate | clean"

# Installs exactly what requirements/ pins, with hashes and no dependency resolution
# (scripts/install.sh): `install-runtime` what the bot needs (run, train), `install` that plus
# tests and lint. VENV=/some/path installs elsewhere. `make lock` refreshes the pins.
install: $(VENV)/.installed-dev
install-runtime: $(VENV)/.installed-runtime

$(VENV)/.installed-dev: requirements/bootstrap.txt requirements/dev.txt pyproject.toml
	@VENV=$(VENV) scripts/install.sh dev

$(VENV)/.installed-runtime: requirements/bootstrap.txt requirements/runtime.txt pyproject.toml
	@VENV=$(VENV) scripts/install.sh runtime

# requirements/*.txt from pyproject.toml (uv, the dev lock's): existing pins are kept unless
# UPGRADE names packages (`make lock UPGRADE=requests`, several: UPGRADE="requests urllib3") or
# is `all`. Then `make install` and commit requirements/.
UPGRADE ?=
lock:
	@test -x $(BIN)/python || $$(scripts/find-python.sh) -m venv $(VENV)
	$(BIN)/python scripts/lock.py compile \
		$(if $(filter all,$(UPGRADE)),--upgrade,$(foreach name,$(UPGRADE),--upgrade-package $(name)))

# Fails when pyproject.toml's dependencies changed since `make lock` (the first step of `make test`).
check-lock:
	@$$(scripts/find-python.sh) scripts/lock.py check

train: $(MODEL)

# Retrains when the runtime packages change (requirements/runtime.txt), not the dev tools.
$(MODEL): requirements/runtime.txt $(TRAIN_INPUTS) | $(VENV)/.installed-runtime check-settings
	@echo "[1/3] checking that the files derived from topics.yml are up to date"
	$(BIN)/python -m bot.tools.generate --check
	@echo "[2/3] language-detection tables (n-grams; words, rebuilt when the texts change)"
	$(BIN)/python -m bot.langid.ngram_tables
	$(BIN)/python -m bot.langid.words
	@echo "[3/3] training the model (~3 min on 2 cores): a line per component, k/N and %"
	$(BIN)/python scripts/train_progress.py --fixed-model-name kotobot --out models \
		--config config.yml --domain domain.yml --data data
	@touch $@

run: install-runtime check-settings train web
	scripts/run.sh

# Every KOTOBOT_* setting validated before minutes of work: a bad value stops here with one line
# naming the variable and what it accepts (bot/core/settings.py).
check-settings: install-runtime
	@$(BIN)/python -m bot.server.serve --check >/dev/null

# The chat page (web/dist/): our own page on socket.io-client, its texts from locales/*.yml (their
# web: section); only the files the page needs are copied (scripts/build-web.sh).
web: install-runtime
	scripts/build-web.sh

generate: install-runtime
	$(BIN)/python -m bot.tools.generate

lint: install
	$(BIN)/ruff check bot actions tests bench scripts
	$(BIN)/ruff format --check bot actions tests bench scripts

check-data: install
	$(BIN)/python -m bot.tools.generate --check
	$(BIN)/python -m bot.tools.web_i18n --check
	$(BIN)/python -m bot.tools.check_data

validate: install
	$(BIN)/rasa data validate --config config.yml --domain domain.yml --data data

pytest: install train web
	$(BIN)/python -m pytest -q

test-stories: install train
	$(BIN)/python -m bot.server.patched_rasa test core --model $(MODEL) --stories tests/test_stories.yml \
		--out results/stories --fail-on-prediction-errors --endpoints endpoints.yml

test: check-lock lint check-data validate pytest test-stories

bench: install train
	$(BIN)/python -m bench.langid --out reports/langid.md
	$(BIN)/python -m bench.langid_bot --out reports/langid_bot.md
	$(BIN)/python -m bench.perf

# Smoke run of the performance comparison (fewer messages, stock model reused when cached).
bench-quick: install train
	$(BIN)/python -m bench.perf --quick --skip-stock

# Questions that fell back or got negative feedback, per language, for content editors.
report: install-runtime
	$(BIN)/python -m bot.tools.report --out reports/feedback.md

# Deletes conversations older than DAYS days from the tracker store (default 30).
DAYS ?= 30
retention: install-runtime
	$(BIN)/python -m bot.tools.retention --days $(DAYS)

# Held-out accuracy per language and topic + confusion matrix (reports/nlu/), then Rasa's own
# cross-validation on the training data (reports/nlu/cross-validation/; FOLDS=3 by default).
FOLDS ?= 3
eval-nlu: install train
	$(BIN)/python -m bench.eval_nlu --out reports/nlu
	$(BIN)/rasa test nlu --nlu data/nlu --config config.yml --cross-validation --folds $(FOLDS) \
		--out reports/nlu/cross-validation

clean:
	rm -rf models results reports .pytest_cache
