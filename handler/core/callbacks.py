"""The callback data of inline buttons: `<prefix>:<generation>:<arg>`, at most 64 bytes, as Telegram allows.

Every keyboard is stamped with the user's button generation when it is sent; a tap on an older keyboard carries
an older generation and is refused as outdated. Anything not of this shape is a forgery.
"""

from __future__ import annotations

import re

from handler.core.inputs import ForgedTap, Tap

CALLBACK_RE = re.compile(r"^([a-z]):(\d{1,9}):([a-z0-9_.-]{1,40}(?::[a-z0-9_.-]{1,40})?)$")


def callback_data(action: str, generation: int) -> str:
    """A button's action (`<prefix>:<arg>`) stamped with the generation of the keyboard it is sent in."""
    prefix, _, arg = action.partition(":")
    return f"{prefix}:{generation}:{arg}"


def parse_callback(data: str | None) -> Tap | ForgedTap:
    """Parse callback data; anything not of our shape is a ForgedTap."""
    match = CALLBACK_RE.match(data or "")
    if match is None:
        return ForgedTap()
    return Tap(match.group(1), int(match.group(2)), match.group(3))
