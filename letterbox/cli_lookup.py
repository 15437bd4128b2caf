"""Status lookup command (`letterbox lookup`), registered on the main `letterbox` group."""

from __future__ import annotations
