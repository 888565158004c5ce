"""Time limits and lifetimes the product relies on, each defined once (settings and adapters use these)."""

from __future__ import annotations

# The worker function's timeout in template.yaml (Lambda's maximum), and what it keeps back of it to tell the user
# and free their state when the budget runs out. Local mode gives a job the same budget.
WORKER_TIMEOUT_SECONDS = 900.0
WORKER_SAFETY_MARGIN_SECONDS = 30.0
JOB_BUDGET_SECONDS = WORKER_TIMEOUT_SECONDS - WORKER_SAFETY_MARGIN_SECONDS
# A job that has not finished within this time is considered lost (longer than the worker's own limit).
JOB_STALE_SECONDS = 20 * 60
# How long a job's heartbeat may stand still before the failure notifier takes its worker for dead (it beats
# every couple of seconds; the longest step between two beats is a download or an upload).
LOST_JOB_GRACE_SECONDS = 45.0
# A claim of a Telegram update still "processing" after this long belongs to an attempt that died (the webhook's
# timeout is 30 s).
CLAIM_STALE_SECONDS = 40.0
# Telegram gives up redelivering an update after 24 hours; claims live a little longer.
UPDATE_CLAIM_TTL_SECONDS = 26 * 3600
# Idle users' state expires (DynamoDB TTL); a week covers any reasonable pause in a conversation.
STATE_TTL_SECONDS = 7 * 24 * 3600
# Job items (ids, options, status) expire as long after they were made.
JOB_TTL_SECONDS = 7 * 24 * 3600
# The worker's idempotency records (a job's id and final status) expire after this; a duplicate delivery of a
# job comes within minutes (Lambda drops queued events after 30 minutes).
IDEMPOTENCY_TTL_SECONDS = 6 * 3600
# Lambda drops an asynchronous event that waited this long for a worker (template.yaml's MaximumEventAgeInSeconds,
# a test checks) and hands it to the failure destination, which tells the user; a worker that is handed one
# anyway does the same instead of running it.
ASYNC_EVENT_MAX_AGE_SECONDS = 1800
# The daily counters (quotas, budget, job records for /stats) live for the seven days /stats shows and today.
DAILY_COUNTER_TTL_SECONDS = 8 * 24 * 3600
# A queued job's "N pictures ahead" message is edited by one writer at a time, the holder of a lease on the job's
# item (`handler.core.queue.positions_to_show`). The lease must outlast the slowest edit, or a second writer could
# edit while the first one's edit is still on its way: the worker's road to Telegram makes an edit at most four
# times, each within 16 s (PTB's 1 s for a connection from the pool, 5 s each to connect, write and read), with 7 s
# of pauses: 71 s. A writer that dies holding it holds that job's count still for at most this long.
POSITION_LEASE_SECONDS = 90.0
# After an album's second picture the bot waits this long for a third before it shows the options: Telegram sends
# an album's pictures one right after the other, so a third comes well within it (`handler.core.decide`, albums).
ALBUM_SETTLE_SECONDS = 1.5
