"""What identifies an applicant group, gathered from its profile for the
anonymisation scan and the conflict cross-check."""
from __future__ import annotations

from collections.abc import Iterable

from ...models import Group
from .anonymise import GroupIdentity


def identity_of(group: Group, extra_terms: Iterable[str] = ()) -> GroupIdentity:
    emails = [e for e in {group.contact_email, group.account.email if group.account else ""} if e]
    return GroupIdentity(
        name=group.name,
        name_kana=group.name_kana,
        representative_name=group.representative_name,
        contact_name=group.contact_name,
        officer_names=[n for n in (group.officer_names or []) if n],
        postal_code=group.postal_code,
        address=group.address,
        phone=group.phone,
        emails=sorted(emails),
        website=group.website,
        extra_terms=[t for t in extra_terms if t],
        aliases=[a for a in (group.aliases or []) if a],
        bases=[b for b in (group.activity_bases or []) if b],
    )
