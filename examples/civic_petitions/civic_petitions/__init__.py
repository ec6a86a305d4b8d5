"""Petitions: residents support a petition; when the supporters reach its threshold, the district
must answer. An example of a complete civic plugin (docs/plugins.md walks through it).

This module holds hook implementations only; each passes straight to its room."""

from __future__ import annotations

from core import hookimpl


@hookimpl
def civic_register_permissions():
    from civic_petitions.permissions import PERMISSIONS

    return PERMISSIONS


@hookimpl
def civic_register_routes(engine):
    from civic_petitions.api import PetitionsController

    return [PetitionsController]


@hookimpl
def civic_register_commands(cli):
    from civic_petitions.cli import petitions

    cli.add_command(petitions)


@hookimpl
def civic_register_read_models():
    from civic_petitions.views import PetitionList

    return [PetitionList]


@hookimpl
def civic_audit_retally(records):
    from civic_petitions.audit import retally

    return retally(records)


@hookimpl
def civic_load_demo(engine, progress):
    from civic_petitions.demo import load_demo

    load_demo(engine, progress)
