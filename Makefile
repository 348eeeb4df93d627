# Aixin: two commands. `make demo` runs the real server with demo data; `make test` runs the suite.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export DJANGO_SETTINGS_MODULE := aixin.settings

.PHONY: demo test install install-test native static lint typecheck serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The import's hot path compiled with mypyc (aixin/native.py): a no-op when built for these
# sources; without a C compiler the Python modules serve (slower) and this says so.
native: | $(VENV)/.installed
	$(BIN)/python -c "from aixin import native; raise SystemExit(native.main())"

install: $(VENV)/.installed node_modules/.installed native
install-test: $(VENV)/.installed-test node_modules/.installed native

demo: install
	$(BIN)/aixin migrate --noinput -v0
	$(BIN)/aixin seed-demo --if-empty
	$(BIN)/aixin collectstatic --noinput -v0
	@echo "爱心 Aixin: http://$(HOST):$(PORT)/  (Ctrl-C 停止)"
	$(BIN)/aixin demo-logins
	$(BIN)/aixin serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/ruff check aixin tests bench
	$(BIN)/ruff format --check aixin tests bench
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check aixin tests bench
	$(BIN)/ruff format --check aixin tests bench

typecheck: install-test
	$(BIN)/mypy aixin

clean:
	rm -rf var node_modules build $(VENV)
