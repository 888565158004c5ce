"""The sizes a picture must have to be styled: torch-free and numpy-free, so that the webhook can check a picture
on arrival without loading the image code."""

from __future__ import annotations

#: Shortest side accepted; anything smaller is not a photo worth styling.
MIN_SIDE = 16
#: Most elongated aspect ratio accepted (Telegram refuses photos beyond 20:1 as well).
MAX_ASPECT = 20.0
