"""Every console page and form, found from the app's routes (core's and every plugin's), refuses
each role that lacks its permission with the 403 page before anything runs, and sends a stranger
to the sign-in page; the store does not move. Each console link is offered only to the roles its
page lets in."""

from __future__ import annotations

import re

import pytest

from core.actors import Role
from core.http import create_app
from core.web.console import staff_page
from tests.support.staff import HTML, add_staff, cheap_passwords, console_client, csrf_token


def console_routes(app) -> list[tuple[str, str, str]]:
    """(method, path with every parameter filled, permission) of each handler behind staff_page."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            guards = [g for g in handler.resolve_guards() if isinstance(g, staff_page)]
            for guard in guards:
                path = re.sub(r"\{(\w+):int\}", "1", route.path)
                path = re.sub(r"\{(\w+)(:\w+)?\}", r"no-such-\1", path)
                for method in sorted(handler.http_methods):
                    found.append((method, path, guard.permission))
    return sorted(set(found))


@pytest.fixture
def staff_per_role(sqlite_engine):
    with cheap_passwords():
        for role in Role:
            add_staff(sqlite_engine, f"only.{role.value}", [role])
        yield sqlite_engine


def test_each_console_page_refuses_every_role_without_its_permission(staff_per_role):
    engine = staff_per_role
    routes = console_routes(create_app(engine))
    assert {("GET", "/staff", "auth.self"), ("GET", "/staff/audit", "audit.verify"),
            ("POST", "/staff/audit/verify", "audit.verify")} <= set(routes)
    refused = 0
    for role in Role:
        with console_client(engine, f"only.{role.value}") as client:
            token = csrf_token(client.get("/staff", headers=HTML).text)
            for method, path, permission in routes:
                if engine.permissions.get(permission).allows_role(role):
                    continue
                before = engine.position
                answer = client.request(method, path, headers=HTML, follow_redirects=False,
                                        data={"_csrf_token": token} if method != "GET" else None)
                assert answer.status_code == 403, (role, method, path, answer.status_code)
                assert "This form has expired" not in answer.text  # refused for the role, not the token
                assert engine.position == before, (role, method, path)
                refused += 1
    assert refused >= len(Role)


def test_a_stranger_is_sent_to_sign_in_and_nothing_changes(staff_per_role):
    engine = staff_per_role
    with console_client(engine) as client:
        token = csrf_token(client.get("/staff/sign-in", headers=HTML).text)
        for method, path, _permission in console_routes(client.app):
            before = engine.position
            answer = client.request(method, path, headers=HTML, follow_redirects=False,
                                    data={"_csrf_token": token} if method != "GET" else None)
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/staff/sign-in"), (method, path)
            assert engine.position == before


def test_console_links_lead_to_pages_the_role_may_open(staff_per_role):
    engine = staff_per_role
    for role in Role:
        with console_client(engine, f"only.{role.value}") as client:
            home = client.get("/staff", headers=HTML)
            assert home.status_code == 200
            for href in re.findall(r'<ul class="console-links">(.*?)</ul>', home.text, re.S)[0].split('href="')[1:]:
                target = href.split('"')[0]
                if target.startswith("/staff"):
                    assert client.get(target, headers=HTML).status_code == 200, (role, target)


def test_every_console_link_names_the_permission_of_its_page(sqlite_engine):
    from core.web.console import allowed_links
    from tests.support.staff import local_operator

    routes = {(path, permission) for method, path, permission in console_routes(create_app(sqlite_engine))
              if method == "GET"}
    links = [link for link in allowed_links(sqlite_engine, local_operator()) if link.href.startswith("/staff")]
    assert links
    for link in links:
        assert (link.href, link.permission) in routes, link


def test_console_pages_stay_out_of_the_api_document(sqlite_engine):
    """The console is for browsers (session cookie, CSRF): its routes are not API operations."""
    app = create_app(sqlite_engine)
    documented = set(app.openapi_schema.to_schema()["paths"])
    console = {path for _method, path, _permission in console_routes(app)}
    assert console and not [p for p in documented if p.startswith("/staff")]
