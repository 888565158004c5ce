"""Where the weights (and the previews rendered with them) live. No torch here: the webhook uses it too."""

from __future__ import annotations

import os
from pathlib import Path

WEIGHTS_DIR_ENV = "STYLEBOT_WEIGHTS_DIR"


def weights_dir() -> Path:
    """The folder of downloaded weights: ``STYLEBOT_WEIGHTS_DIR``, else ``~/.cache/stylebot/weights``."""
    env = os.environ.get(WEIGHTS_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "stylebot" / "weights"


def previews_dir() -> Path:
    """Preset previews live beside the weights they are rendered with."""
    return weights_dir() / "previews"
