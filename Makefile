# Every target bootstraps its own .venv; nothing needs installing by hand.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml setup.py $(wildcard mvcc_check/*/*.c)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/mvcc-check matrix --bugs; \
	  rc=$$?; echo "(matrix exit code $$rc: 0 means every level kept its claim and every bug was caught)"; echo
	$(BIN)/mvcc-check check histories/*.jsonl histories/*.edn histories/*.json; \
	  rc=$$?; echo "(exit code $$rc: 0 valid, 1 anomalies found, 2 bad input, 3 undecided)"

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m mvcc_check.bench

lint: $(STAMP)
	$(BIN)/ruff check mvcc_check tests
	$(BIN)/ruff format --check mvcc_check tests

clean:
	rm -rf $(VENV) .bench-cache .pytest_cache .hypothesis
