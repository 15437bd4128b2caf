"""Report commands (deadlines, supervision report), registered on the main `letterbox` group."""

from __future__ import annotations
