"""Online intake service command (serve-intake), registered on the main `letterbox` group."""

from __future__ import annotations
