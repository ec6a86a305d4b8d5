"""Who may do what in the committee, declared for ``core.identity``.

Members' own acts (comment, recuse, decide) need a signed-in committee member (or the secretary
relaying them) and, in addition, the member's Ed25519 signature, checked against the key
registered when they joined: an account cannot act as a member it holds no key of. The
secretary's acts (도시디자인과) need ``process_admin``, or ``system_admin`` (the operator)."""

from __future__ import annotations

from core import ANYONE, Role

PERMISSIONS: dict[str, list[str]] = {
    # applicants (or officials on their behalf) submit and follow their applications
    "ad_review.apply": [ANYONE],
    # decisions, sessions and the service-level report are public
    "ad_review.read": [ANYONE],
    # members' acts: sent by a signed-in member (or relayed by the secretary or the operator);
    # each also carries the member's own signature, which binds it to that member
    "ad_review.member_act": [Role.COMMITTEE_MEMBER.value, Role.PROCESS_ADMIN.value, Role.SYSTEM_ADMIN.value],
    # the secretary manages members, settings, sessions and the full committee's minutes
    "ad_review.secretary": [Role.PROCESS_ADMIN.value, Role.SYSTEM_ADMIN.value],
}
