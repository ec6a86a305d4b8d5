"""Who may do what in apartment elections."""

from __future__ import annotations

from core import ANYONE

ADMIN = "apartment.admin"
VOTE = "apartment.vote"
PERMISSIONS = {
    # elections are run by the complex's election management committee (a process administrator)
    ADMIN: ["process_admin"],
    # households sign in with their one-time code, not with a staff account
    VOTE: [ANYONE],
}
