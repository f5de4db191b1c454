# Every target bootstraps its own .venv; nothing needs installing by hand.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench lint faults phantoms clean fuzz fuzz-scan fuzz-input

# The C extensions (their .c and .h files) are built by pip install -e (setup.py).
$(STAMP): pyproject.toml setup.py $(wildcard mvcc_check/*/*.c mvcc_check/*/*/*.c mvcc_check/*/*.h)
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

# Every fuzzer, each a target of its own (FUZZ_CASES, FUZZ_SEED to vary them).
fuzz: fuzz-input

FUZZ_CASES ?= 20000
FUZZ_SEED  ?= 1
fuzz-input: $(STAMP)
	$(BIN)/python tests/fuzz_inputs.py --cases $(FUZZ_CASES) --seed $(FUZZ_SEED)

bench: $(STAMP)
	$(BIN)/python -m mvcc_check.bench

# Long fault runs on launched targets (not unit tests): each prints its verdict; the
# replica runs are expected to find realtime anomalies (exit 1), see README "Faults".
faults: $(STAMP)
	$(BIN)/mvcc-check test --launch postgresql --isolation serializable --nemesis kill-connection,pause,crash --txns 3000
	$(BIN)/mvcc-check test --launch postgresql -i repeatable-read -i serializable --seed 1 --seed 2 --nemesis kill-connection,pause,crash,partition --txns 5000
	$(BIN)/mvcc-check test --launch mariadb -i serializable --seed 1 --seed 2 --nemesis kill-connection,pause,crash,partition --txns 5000
	$(BIN)/mvcc-check test --launch etcd -i linearizable -i serializable --seed 1 --seed 2 --nemesis pause,crash,partition --txns 3000
	-$(BIN)/mvcc-check test --launch postgresql-replica -i repeatable-read -i serializable --seed 1 --seed 2 --seed 3 --txns 1500 --keys 10 -m snapshot-isolation -m serializable -m strict-serializable
	-$(BIN)/mvcc-check test --launch postgresql-replica --replica-lag remote-apply -i repeatable-read -i serializable --seed 1 --seed 2 --seed 3 --txns 1500 --keys 10 -m snapshot-isolation -m serializable -m strict-serializable

# Which database levels allow phantoms: the closed-predicate workload on launched
# SQLite, PostgreSQL and MariaDB, every level; rewrites docs/phantoms.md (not a test).
phantoms: $(STAMP)
	$(BIN)/python -m mvcc_check.lab.phantoms --txns 500 --seeds 3 --out docs/phantoms.md

# Fuzzing: every target below runs for FUZZ_SECONDS; `make fuzz` runs them all.
FUZZ_SECONDS ?= 60
fuzz: fuzz-scan

# The JSON Lines scanner's C core under libFuzzer with ASan and UBSan (clang).
fuzz-scan:
	mkdir -p build/fuzz/scan-corpus
	cp histories/*.jsonl histories/*.edn build/fuzz/scan-corpus/
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  fuzz/scan_fuzz.c -o build/fuzz/scan_fuzz
	ASAN_OPTIONS=allocator_release_to_os_interval_ms=200:quarantine_size_mb=64 \
	build/fuzz/scan_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -dict=fuzz/scan.dict \
	  -rss_limit_mb=4096 -malloc_limit_mb=2048 \
	  -artifact_prefix=build/fuzz/ build/fuzz/scan-corpus

lint: $(STAMP)
	$(BIN)/ruff check mvcc_check tests
	$(BIN)/ruff format --check mvcc_check tests

clean:
	rm -rf $(VENV) .bench-cache .pytest_cache .hypothesis build mvcc_check/*/*.so mvcc_check/*/*/*.so
