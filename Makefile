# saylau — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
OUT    ?= build/demo

PORT   ?= 8000

.PHONY: demo serve-demo test test-slow lint bench clean venv js messages lock

venv: $(STAMP)

# Installs exactly the versions of requirements/dev.lock, each checked against its sha256 hash, then saylau
# itself without resolving anything; then checks that the lock covers pyproject.toml's dependencies.
$(STAMP): pyproject.toml requirements/dev.lock requirements/core.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) scripts/check_lock.py
	touch $(STAMP)

# The lock files: every package of the core and of every extra (dev.lock; core.lock: the core alone, what
# `pip install saylau` brings), pinned with hashes, for CPython 3.11 on Linux x86_64 (manylinux_2_28).
# Regenerate them after changing a dependency in pyproject.toml (`make venv` refuses a lock that misses
# one): `make lock` keeps every other pin as it is; `make lock UPGRADE=--upgrade` moves all to the newest.
# Then commit pyproject.toml with requirements/*.lock, and run `make venv`.
UV_VERSION := 0.13.8
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	--custom-compile-command "make lock" --quiet $(UPGRADE)

lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o requirements/dev.lock
	$(VENV)/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements/core.lock

# Front-end packages from the npm registry (exact versions in package-lock.json), and the ES modules the
# pages load copied into src/saylau/web/static/vendor/ (generated; see docs/booth-crypto.md).
NODE_STAMP := node_modules/.installed-stamp
VENDOR     := src/saylau/web/static/vendor/importmap.json

js: $(VENDOR)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

$(VENDOR): $(NODE_STAMP) scripts/vendor-js.mjs
	node scripts/vendor-js.mjs

demo: $(STAMP)
	$(VENV)/bin/saylau demo --out $(OUT)

# the demo, then a server with an open election to try in a browser (Ctrl-C stops it)
serve-demo: $(STAMP) js
	$(VENV)/bin/saylau demo --out $(OUT) --serve --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint js
	bash scripts/ensure-services.sh
	bash scripts/ensure-chromium.sh
	$(VENV)/bin/pytest -q -n 2 -m "not slow"
	node --test tests/web/js/

test-slow: $(STAMP)
	$(VENV)/bin/pytest -q -m slow

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache node_modules src/saylau/web/static/vendor

# Interface strings (docs/web.md): extract them from the templates and src/saylau/web/*.py into
# messages.pot and merge new ones into every language's messages.po (the .po files are compiled in
# memory when the server starts; no .mo file is built or committed).
LOCALE := src/saylau/web/locale
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ --no-location \
		--sort-output --project saylau -o $(LOCALE)/messages.pot .
	for po in $(LOCALE)/*/LC_MESSAGES/messages.po; do \
		$(VENV)/bin/pybabel update --no-fuzzy-matching --ignore-obsolete -i $(LOCALE)/messages.pot \
			-d $(LOCALE) -l $$(basename $$(dirname $$(dirname $$po))); \
	done
