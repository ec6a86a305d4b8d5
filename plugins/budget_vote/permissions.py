"""Who may do what in the participatory budget (``budget.<action>`` -> roles)."""

from __future__ import annotations

from core import ANYONE

PERMISSIONS = {
    "budget.view": [ANYONE],
    "budget.vote": [ANYONE],  # the ballot credential, not a staff account, admits a voter
    "budget.propose": ["resident", "proposer", "committee_member"],
    # the instance's operator (system_admin) may run cycles and imports; validating and
    # overriding a result stay with the process administrators
    "budget.manage": ["process_admin", "system_admin"],
    "budget.screen": ["process_admin", "committee_member"],
    "budget.paper_ballots": ["process_admin"],
    "budget.tally": ["process_admin", "system_admin"],
    "budget.view_embargoed": ["process_admin", "auditor", "system_admin"],
    "budget.override": ["process_admin"],
    "budget.validate": ["process_admin"],
}
