"""Who may do what with field complaints (role names per permission)."""

from __future__ import annotations

from core import ANYONE

PERMISSIONS: dict[str, list[str]] = {
    # the call centre takes reports in (120 다산콜); field officers also report what they find
    "complaints.intake": ["call_centre_agent", "field_officer", "system_admin"],
    "complaints.handle": ["field_officer", "system_admin"],
    "complaints.configure": ["process_admin", "system_admin"],
    "complaints.personal_data": ["call_centre_agent", "field_officer", "system_admin"],
    "complaints.erase": ["system_admin"],
    # the audit office (감사담당관) publishes the monthly inspection
    "complaints.inspect": ["process_admin", "auditor", "system_admin"],
    # residents report through Open311 apps without an account
    "complaints.open311": [ANYONE],
}
