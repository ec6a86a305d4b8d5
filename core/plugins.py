"""The plugin manager: hook specs, plugins found through the ``civic`` entry-point group
(the built-ins are declared there exactly like third-party ones), an allow-list, and
``check_pending()`` so a misspelled hook implementation fails at start."""

from __future__ import annotations

import importlib
import os
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from core import hookspecs

GROUP = "civic"
ALLOW_ENV = "CIVIC_PLUGINS"
# Core's own permissions, routes and command groups, and its notifiers (SMTP e-mail, HTTP SMS
# gateway; each off until configured), registered first through the same hooks as any plugin (the
# way tox registers its internal plugins).
INTERNAL_PLUGINS = ("core.system", "core.smtp_mail", "core.sms_gateway")


class PluginError(RuntimeError):
    pass


def discover() -> list[EntryPoint]:
    return sorted(entry_points(group=GROUP), key=lambda ep: ep.name)


def allowed_names(value: str | None = None) -> set[str] | None:
    """``CIVIC_PLUGINS=budget_vote,complaints`` loads only those; unset or ``all`` loads all."""
    raw = os.environ.get(ALLOW_ENV) if value is None else value
    if raw is None or raw.strip() in ("", "all", "*"):
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def make_plugin_manager(allow: set[str] | None | str = "env", extra: list[Any] = ()) -> pluggy.PluginManager:
    """Build a manager: hook specs, then every allowed entry point, then ``extra`` objects,
    then ``check_pending()``."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in INTERNAL_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    allowed = allowed_names() if allow == "env" else allow
    found = discover()
    if allowed is not None:
        unknown = allowed - {ep.name for ep in found}
        if unknown:
            raise PluginError(
                f"{ALLOW_ENV} names unknown plugin(s) {sorted(unknown)}; "
                f"installed: {[ep.name for ep in found]}"
            )
    for ep in found:
        if allowed is not None and ep.name not in allowed:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must stop start-up with its name
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        pm.register(plugin, name=ep.name)
    for plugin in extra:
        pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"unknown hook implementation: {exc}") from exc
    return pm


def describe(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """Each registered plugin (core's internal ones aside) with its distribution and the hooks
    it implements."""
    dists = {ep.name: ep for ep in discover()}
    out = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda p: str(p[0])):
        if plugin is None or name is None or name in INTERNAL_PLUGINS:
            continue
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or ())
        ep = dists.get(name)
        dist = ep.dist if ep is not None else None
        out.append(
            {
                "name": name,
                "module": getattr(plugin, "__name__", type(plugin).__module__),
                "distribution": dist.name if dist else None,
                "version": dist.version if dist else None,
                "builtin": bool(ep and ep.value.startswith("plugins.")),
                "hooks": hooks,
            }
        )
    return out
