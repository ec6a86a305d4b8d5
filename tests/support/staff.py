"""Staff accounts and signed-in page clients for tests of the console (without a browser)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import argon2
from litestar.testing import TestClient

from core.actors import Role, local_operator
from core.http import create_app
from core.passwords import use_password_hasher

PASSWORD = "correct horse battery"
HTML = {"accept": "text/html"}


@contextmanager
def cheap_passwords() -> Iterator[None]:
    """Argon2's cheapest profile: accounts made and signed in quickly in tests."""
    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    try:
        yield
    finally:
        use_password_hasher(previous)


def add_staff(engine, username: str, roles: Iterable[Role], name: str | None = None) -> str:
    engine.identity.add_staff(local_operator(), username, name or username, PASSWORD, list(roles))
    return username


def csrf_token(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, username: str) -> None:
    token = csrf_token(client.get("/staff/sign-in", headers=HTML).text)
    answer = client.post("/staff/sign-in", headers=HTML, follow_redirects=False,
                         data={"username": username, "password": PASSWORD, "_csrf_token": token})
    assert answer.status_code == 303, answer.text[-500:]


def post_form(client: TestClient, path: str, data: dict | None = None, *, token_from: str = "/staff",
              files: dict | None = None):
    """Post a console form as the browser would: with the CSRF token of a page, and no redirect
    followed (the answer's status and Location are what the test checks)."""
    token = csrf_token(client.get(token_from, headers=HTML).text)
    return client.post(path, headers=HTML, data={**(data or {}), "_csrf_token": token}, files=files,
                       follow_redirects=False)


@contextmanager
def console_client(engine, username: str | None = None) -> Iterator[TestClient]:
    """A page client of the whole app, signed in as ``username`` (not signed in with None)."""
    with TestClient(app=create_app(engine), base_url="http://testserver.local") as client:
        if username is not None:
            sign_in(client, username)
        yield client


def store_with_staff(db, outbox, accounts, prepare=None) -> None:
    """A store with staff accounts ``(username, name, roles)`` (cheap passwords, all
    ``PASSWORD``), and whatever ``prepare(engine)`` adds; closed again, for a server to open."""
    from core.engine import Engine

    with cheap_passwords():
        engine = Engine(str(db), outbox=outbox)
        try:
            for username, name, roles in accounts:
                engine.identity.add_staff(local_operator(), username, name, PASSWORD, list(roles))
            if prepare is not None:
                prepare(engine)
        finally:
            engine.close()
