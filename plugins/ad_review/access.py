"""Who may do what in the committee, declared for ``core.identity``.

Members' own acts (comment, recuse, decide) are authenticated by the member's Ed25519 signature,
checked against the key registered when they joined, so they need no sign-in; the secretary's
acts (도시디자인과) need ``process_admin``, or ``system_admin`` (the instance's operator)."""

from __future__ import annotations

from core.identity import ANYONE, Role

PERMISSIONS: dict[str, list[str]] = {
    # applicants (or officials on their behalf) submit and follow their applications
    "ad_review.apply": [ANYONE],
    # decisions, sessions and the service-level report are public
    "ad_review.read": [ANYONE],
    # members' acts carry the member's signature, which is the credential
    "ad_review.member_act": [ANYONE],
    # the secretary manages members, settings, sessions and the full committee's minutes
    "ad_review.secretary": [Role.PROCESS_ADMIN.value, Role.SYSTEM_ADMIN.value],
}
