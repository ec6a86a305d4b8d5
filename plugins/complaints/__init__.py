"""Field complaints (응답소 현장민원): intake by channel, routing to field officers, result texts,
inspection reports and an Open311 GeoReport v2 face."""

from __future__ import annotations

from core import hookimpl




@hookimpl
def civic_register_read_models():
    from plugins.complaints.readmodel import ComplaintIndex

    return [ComplaintIndex]


@hookimpl
def civic_register_routes(engine):
    from plugins.complaints.api import ROUTES
    from plugins.complaints.open311 import OPEN311_ROUTES

    return [*ROUTES, *OPEN311_ROUTES]


@hookimpl
def civic_register_commands(cli):
    from plugins.complaints.cli import complaints

    cli.add_command(complaints)


@hookimpl
def civic_register_permissions():
    from core import ANYONE

    return {
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


@hookimpl
def civic_audit_retally(records):
    from plugins.complaints.audit import retally

    return retally(records)


@hookimpl
def civic_load_demo(engine, progress):
    from plugins.complaints.demo import load_demo

    load_demo(engine, progress)


@hookimpl
def civic_tick(engine):
    from plugins.complaints.service import flag_overdue, send_pending_texts

    done = flag_overdue(engine)
    sent = send_pending_texts(engine)
    if sent:
        done.append(f"complaints: {len(sent)} result text(s) sent")
    return done
