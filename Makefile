# Mutualis — the two commands that matter: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-pg lint bench install migrate demo clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/mutualis migrate --no-input -v0

demo: migrate
	$(BIN)/mutualis load_demo
	$(BIN)/mutualis demo_generate_tickets --months 24 --seed 42

## Set up everything and serve the reference operator's demo on http://$(HOST):$(PORT)
run: demo
	@echo ""
	@echo "Mutualis: http://$(HOST):$(PORT)/  (demo mode: second factor off for operator staff, mail printed here)"
	@$(BIN)/mutualis load_demo --accounts
	@echo ""
	@# The document flows' local servers (S²low, i-Parapheur, As@lae, Pastell) and their sweep run
	@# beside the site and stop with it: an act or a PES file deposited in the demo goes through them.
	@$(BIN)/mutualis flows_localservers > var/flows-localservers.log 2>&1 & LS=$$!; \
	$(BIN)/mutualis flows_run --loop 5 > var/flows-run.log 2>&1 & FR=$$!; \
	trap 'kill $$LS $$FR 2>/dev/null' EXIT INT TERM; \
	echo "Flux documentaires : serveurs locaux et balayage en arrière-plan (journaux : var/flows-*.log)"; \
	MUTUALIS_REQUIRE_2FA=$${MUTUALIS_REQUIRE_2FA:-false} MUTUALIS_TASKS_BACKEND=$${MUTUALIS_TASKS_BACKEND:-immediate} \
		MUTUALIS_BASE_URL=$${MUTUALIS_BASE_URL:-http://$(HOST):$(PORT)} \
		$(BIN)/mutualis runserver $(HOST):$(PORT)

## Every test, on SQLite unless DATABASE_URL says otherwise
test: $(STAMP)
	$(BIN)/pytest -n 2 -q

test-pg: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy mutualis config
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings_test $(BIN)/mutualis makemigrations --check --dry-run

bench: $(STAMP)
	$(BIN)/python -m bench.matrix

clean:
	rm -rf $(VENV) var
