"""Who may do what with petitions."""

from core import ANYONE

PERMISSIONS = {
    "petitions.view": [ANYONE],
    # residents support without an account; the supporter id is whatever the district's
    # sign-in gives them (a keyed hash of their verified phone number, say)
    "petitions.support": [ANYONE],
    "petitions.open": ["process_admin", "system_admin"],
}
