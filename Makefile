# The commands of the README. Each sets up .venv on first use.
.PHONY: run test test-all lint bench setup transcripts

setup:
	@bash infra/scripts/setup-venv.sh

run: setup
	.venv/bin/python -m handler.local

# One test process per CPU; a module's tests stay in one process (they share its emulated functions).
# The whole suite: the README's second command, and what CI runs (.ci/run).
test-all: setup
	.venv/bin/python -m pytest -n auto --dist loadfile

# The fast tier, the developer's loop: every test not marked slow (README, "Tests").
test: setup
	.venv/bin/python -m pytest -n auto --dist loadfile -m "not slow"

lint: setup
	.venv/bin/python -m pytest tests/unit/test_static_checks.py

# Rewrite docs/conversation.en.md and docs/conversation.ru.md from a run of every flow (commit them afterwards).
transcripts: setup
	.venv/bin/python -m pytest tests/integration/test_transcripts.py --update-transcripts -q -p no:cacheprovider
