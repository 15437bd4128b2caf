"""The intake web service (Starlette)."""
