"""letterbox: the case system behind a district mayor's mailbox (区长信箱)."""

__version__ = "0.1.0"
