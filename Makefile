# The two commands of the README. Both set up .venv on first use.
.PHONY: run test lint bench setup transcripts

setup:
	@bash infra/scripts/setup-venv.sh

run: setup
	.venv/bin/python -m handler.local

# One test process per CPU; a module's tests stay in one process (they share its emulated functions).
test: setup
	.venv/bin/python -m pytest -n auto --dist loadfile

lint: setup
	.venv/bin/python -m pytest tests/unit/test_static_checks.py

# Rewrite docs/conversation.en.md and docs/conversation.ru.md from a run of every flow (commit them afterwards).
transcripts: setup
	.venv/bin/python -m pytest tests/integration/test_transcripts.py --update-transcripts -q -p no:cacheprovider
