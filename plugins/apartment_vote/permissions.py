"""Who may do what in apartment elections."""

from __future__ import annotations

from core import ANYONE

ADMIN = "apartment.admin"
VOTE = "apartment.vote"
PERMISSIONS = {
    # elections are run by the complex's election management committee (a process administrator);
    # the instance's operator (system_admin) may run them too, as in every other process
    ADMIN: ["process_admin", "system_admin"],
    # households sign in with their one-time code, not with a staff account
    VOTE: [ANYONE],
}
