"""Local mode's first run: before the bot starts, the weights it would offer but lacks are downloaded and verified,
with a progress line per file on the console. Set ``STYLEBOT_FETCH_WEIGHTS=0`` to skip it.

An entry with no published SHA-256 (the preset checkpoints) is trusted on its first download and its hash pinned
into the manifest, said in a loud line (the same trust as the image build; README, "Weights"). Offline, one line
says the download failed, and local mode's weights notice then says what is off and the command that fetches it
later; the bot runs with the rest. Nothing here stops the bot.
"""

from __future__ import annotations

from typing import TextIO

from ml import registry
from ml.errors import WeightsError

FETCH_ENV = "STYLEBOT_FETCH_WEIGHTS"
# A server that does not answer within this many seconds (connect, or between two reads) counts as unreachable.
CONNECT_TIMEOUT_SECONDS = 10.0


def fetch_missing_weights(stream: TextIO, *, timeout: float = CONNECT_TIMEOUT_SECONDS) -> list[str]:
    """Download what the bot would offer but lacks, reporting on ``stream``; the entries still missing after."""
    from ml import weights  # torch-free; kept out of the webhook's imports all the same

    names, words = registry.lacking()
    if not names:
        return []
    print(
        f"Fetching the weights of what this bot offers but lacks ({', '.join(words)}): {len(names)} file(s) from "
        f"the internet, once. To skip this, set {FETCH_ENV}=0.",
        file=stream,
        flush=True,
    )

    def say(line: str) -> None:
        if line.startswith("WARNING"):  # a pin trusted on first download: said loudly; the rest is the progress
            print(line, file=stream, flush=True)

    progress = weights.DownloadProgress(stream)
    for name in names:
        try:
            weights.fetch([name], report=say, timeout=timeout, pin=True, progress=progress)
        except weights.WeightsUnreachable as exc:
            reason = exc.__cause__ if exc.__cause__ is not None else exc
            print(f"Could not download the weights (offline? {reason}); the bot runs without them.", file=stream)
            break
        except WeightsError as exc:
            print(f"Could not fetch {name}: {exc}", file=stream)
    return registry.lacking()[0]
