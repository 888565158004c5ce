# The commands of the README. Each sets up .venv on first use.
.PHONY: run test test-all lint bench setup transcripts

setup:
	@bash infra/scripts/setup-venv.sh

run: setup
	.venv/bin/python -m handler.local

# One test process per CPU; a module's tests stay in one process (they share its emulated functions). The tests
# write bytecode caches (__pycache__, ignored by git and the image) even where the environment asks not to
# (PYTHONDONTWRITEBYTECODE): without them every worker and subprocess compiles the project and rewrites the test
# modules again (the fast tier took 185 s so, 106 s with them, on two cores).
PYTEST = PYTHONDONTWRITEBYTECODE= .venv/bin/python -m pytest -n auto --dist loadfile

# The whole suite: the README's second command, and what CI runs (.ci/run).
test-all: setup
	$(PYTEST)

# The fast tier, the developer's loop: every test not marked slow (README, "Tests").
test: setup
	$(PYTEST) -m "not slow"

lint: setup
	.venv/bin/python -m pytest tests/unit/test_static_checks.py

# Rewrite docs/conversation.en.md and docs/conversation.ru.md from a run of every flow (commit them afterwards).
transcripts: setup
	.venv/bin/python -m pytest tests/integration/test_transcripts.py --update-transcripts -q -p no:cacheprovider
