"""Intake numbering for concurrent submissions: tickets that predict their letter code.

The 600 000-iteration query-code hash (about 0.2 s) is salted with the letter code, so in the
plain intake it runs inside the repository lock. The online service gives each request a ticket
that predicts its letter code (the next free code plus the requests ahead of it), hashes outside
the lock, then waits for its turn and calls `intake_one(..., prepared=...)`, which uses the
prepared hash only if the predicted code is still the next one under the lock. Nothing is
reserved on disk: the sequence is still decided under the lock from the files in cases/
(`Repository.next_letter_code`: each month folder's largest number is kept by the folder's
modification time, so only the folders changed since are listed: `store.index.last_sequence`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from letterbox.core import codes
from letterbox.store.repository import Repository


class Sequencer:
    """Tickets in arrival order: each predicts its letter code; commits go in ticket order.

    The prediction is anchored on the last commit: if ticket t got sequence number s, ticket
    t + k is predicted s + k. A wrong prediction (a letter refused under the lock, or another
    process taking a code) costs that request a second hash, and the next commit re-anchors.
    """

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.cond = threading.Condition()
        self.issued = 0
        self.turn = 0
        self.in_flight = 0
        self.anchor: tuple[int, int, int] | None = None  # (year, ticket, sequence number it got)

    def ticket(self, stamp: Callable[[], datetime]) -> tuple[int, datetime, str]:
        """(ticket, submission time, predicted letter code); the time is taken in ticket order."""
        with self.cond:
            moment = stamp()
            year = moment.year
            number = self.issued
            self.issued += 1
            if self.in_flight == 0 or self.anchor is None or self.anchor[0] != year:
                parsed = codes.parse_letter_code(self.repo.next_letter_code(year))
                self.anchor = (year, number - 1, (parsed[2] if parsed else 1) - 1)
            _, ticket0, seq0 = self.anchor
            seq = min(max(seq0 + number - ticket0, 1), 99999)
            self.in_flight += 1
            return number, moment, codes.letter_code(self.repo.config.prefix, year, seq)

    def wait_turn(self, number: int) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.turn == number)

    def done(self, number: int, committed: str | None) -> None:
        """Ticket `number` is finished; `committed` is the letter code it got, if any."""
        with self.cond:
            self.cond.wait_for(lambda: self.turn == number)
            parsed = codes.parse_letter_code(committed) if committed else None
            if parsed:
                self.anchor = (parsed[1], number, parsed[2])
            self.turn += 1
            self.in_flight -= 1
            self.cond.notify_all()
