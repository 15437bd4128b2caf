"""Analysis commands (similar, analyse), registered on the main `letterbox` group."""

from __future__ import annotations
