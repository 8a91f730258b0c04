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
	$(shell find data bot/nlu bot/langid -type f \( -name '*.yml' -o -name '*.py' -o -name '*.txt' \) 2>/dev/null)

.PHONY: help install train run test lint check-data validate pytest test-stories bench eval-nlu \
	report retention generate web bench-quick clean

help:
	@echo "make run    set up, train if needed, start action server :5055, Rasa :5005, web page :8080"
	@echo "make test   lint, data checks, rasa data validate, train, pytest, rasa test stories"
	@echo "make install | train | bench | generate | clean"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $$(scripts/find-python.sh) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip wheel "setuptools>=64"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m bot.langid.ngram_tables
	@touch $@

train: $(MODEL)

$(MODEL): $(VENV)/.installed $(TRAIN_INPUTS)
	$(BIN)/python -m bot.generate --check
	$(BIN)/python -m bot.langid.ngram_tables
	$(BIN)/rasa train --fixed-model-name kotobot --out models --config config.yml \
		--domain domain.yml --data data --quiet
	@touch $@

run: install train web
	scripts/run.sh

# The chat page: rasa-webchat 1.0.1 from npm (web/node_modules) and page texts from locales/.
web: install
	scripts/build-web.sh

generate: install
	$(BIN)/python -m bot.generate

lint: install
	$(BIN)/ruff check bot actions tests bench scripts
	$(BIN)/ruff format --check bot actions tests bench scripts

check-data: install
	$(BIN)/python -m bot.generate --check
	$(BIN)/python -m bot.web_i18n --check
	$(BIN)/python -m bot.check_data

validate: install
	$(BIN)/rasa data validate --config config.yml --domain domain.yml --data data

pytest: install train web
	$(BIN)/python -m pytest -q

test-stories: install train
	$(BIN)/rasa test core --model $(MODEL) --stories tests/test_stories.yml \
		--out results/stories --fail-on-prediction-errors --endpoints endpoints.yml

test: lint check-data validate pytest test-stories

bench: install train
	$(BIN)/python -m bench.langid --out reports/langid.md
	$(BIN)/python -m bench.langid_bot --out reports/langid_bot.md
	$(BIN)/python -m bench.perf

# Smoke run of the performance comparison (fewer messages, stock model reused when cached).
bench-quick: install train
	$(BIN)/python -m bench.perf --quick --skip-stock

# Questions that fell back or got negative feedback, per language, for content editors.
report: install
	$(BIN)/python -m bot.report --out reports/feedback.md

# Deletes conversations older than DAYS days from the tracker store (default 30).
DAYS ?= 30
retention: install
	$(BIN)/python -m bot.retention --days $(DAYS)

# Held-out accuracy per language and topic + confusion matrix (reports/nlu/), then Rasa's own
# cross-validation on the training data (reports/nlu/cross-validation/; FOLDS=3 by default).
FOLDS ?= 3
eval-nlu: install train
	$(BIN)/python -m bench.eval_nlu --out reports/nlu
	$(BIN)/rasa test nlu --nlu data/nlu --config config.yml --cross-validation --folds $(FOLDS) \
		--out reports/nlu/cross-validation

clean:
	rm -rf models results reports .pytest_cache
