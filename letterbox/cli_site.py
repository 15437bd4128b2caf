"""Public-site commands (build, serve), registered on the main `letterbox` group."""

from __future__ import annotations
