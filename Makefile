# fieldwalk — `make run` serves the app with demo data, `make test` runs everything CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app fieldwalk
HOST   ?= 127.0.0.1
PORT   ?= 5000
# The Werkzeug debugger runs any code for whoever sees its page: only on a loopback address. On any other
# HOST (a phone on the LAN) the server runs with --no-debug (no debugger, no reloader; it also overrides
# a FLASK_DEBUG=1 in the environment), and the app itself refuses the debugger off loopback.
LOOPBACK := 127.0.0.1 localhost ::1
DEBUG  := $(if $(filter $(LOOPBACK),$(HOST)),--debug,--no-debug)

.PHONY: setup run run-https serve reload test lint upgrade bench fuzz vendor icons translations extract-messages clean

# The lock: uv (from PyPI) because `uv pip compile --generate-hashes` resolves in seconds into a plain
# requirements file that pip installs with --require-hashes; pyproject keeps the ranges for library users.
LOCK := requirements-dev.lock

setup: $(VENV)/.installed static/vendor/.stamp translations

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# Refresh the lock to the newest versions pyproject's ranges allow (then run `make test` and commit it).
upgrade:
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra postgres --generate-hashes --python-version 3.11 \
		--upgrade -o $(LOCK)

static/vendor/.stamp: package.json package-lock.json scripts/vendor.py
	$(PYTHON) scripts/vendor.py
	mkdir -p static/vendor && touch $@

vendor: static/vendor/.stamp

# Redraw the app icons (any, maskable, apple-touch-icon) with Pillow; the PNGs are committed.
icons: $(VENV)/.installed
	$(PYTHON) scripts/make_icons.py

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d fieldwalk/translations -f >/dev/null

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs=".venv node_modules" -o fieldwalk/translations/messages.pot .
	$(BIN)/pybabel update -i fieldwalk/translations/messages.pot -d fieldwalk/translations --no-fuzzy-matching

# Schemathesis against the API's OpenAPI document with many more examples than the test suite uses.
fuzz: setup
	FIELDWALK_FUZZ_EXAMPLES=200 $(BIN)/pytest tests/test_api_fuzz.py -q

# Creates/upgrades the SQLite database in instance/, loads demo data once, serves on $(HOST):$(PORT)
# (with the debugger on loopback only).
run: setup
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	$(FLASK) run $(DEBUG) --host $(HOST) --port $(PORT)

# HTTPS with a throw-away certificate so a phone on the same network may use GPS (secure context).
# On all interfaces, so never with the debugger. Join links and QR codes are built on BASE_URL: here the
# machine's first network address, so that a phone can open them (set FIELDWALK_BASE_URL to override).
run-https: export FIELDWALK_BASE_URL ?= https://$(shell hostname -I 2>/dev/null | cut -d' ' -f1 | grep . || echo 127.0.0.1):$(PORT)
run-https: setup
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	$(FLASK) run --no-debug --cert adhoc --host 0.0.0.0 --port $(PORT)

# Production serving: gunicorn with gunicorn.conf.py (workers from the cores, threads, preload, JSON logs),
# never a debugger. FIELDWALK_PRODUCTION=1 unless set otherwise: the settings are checked first (every
# problem listed at once), then the schema is migrated, then gunicorn listens on $(HOST):$(PORT) (behind
# the TLS proxy on the same machine; HOST=0.0.0.0 for a proxy elsewhere). `make reload` loads a new release
# without dropping a request (SIGUSR2 to the master in $(PIDFILE)).
PIDFILE ?= instance/gunicorn.pid
serve: export FIELDWALK_PRODUCTION ?= 1
serve: export FIELDWALK_LOG_FORMAT ?= json
serve: setup
	$(BIN)/python -m fieldwalk.production
	$(FLASK) init-db
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py --pid $(PIDFILE)

reload:
	kill -USR2 $$(cat $(PIDFILE))

# ruff check, ruff format --check, mypy (pyproject's [tool.mypy]: the fieldwalk package, zero errors), and
# eslint (a devDependency in package.json, installed by npm ci in `make vendor`) on static/js.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/mypy
	npx --no-install eslint static/js

test: setup lint
	$(BIN)/pytest

# Every benchmark runs even when an earlier one misses its target; the exit status says whether all met theirs.
BENCHES := photo_ingest capture_throttled big_pages protocol_map protocol_pdf walk_evening
bench: setup
	@failed=""; for name in $(BENCHES); do echo "== bench/$$name.py"; \
		$(BIN)/python bench/$$name.py || failed="$$failed $$name"; done; \
	if [ -n "$$failed" ]; then echo "targets missed:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) node_modules static/vendor
