"""What Slack says of a person (`user_change`, `users.info`): zone, departure, and the admin
role, which follows Slack's word; a facilitator grant is ours and stays."""

from __future__ import annotations

import pytest

from bot.models import Person
from bot.services.people import apply_profile


@pytest.mark.parametrize(
    ("before", "slack_says", "after"),
    [
        ("member", {"is_admin": True}, "admin"),
        ("member", {"is_owner": True, "is_admin": False}, "admin"),
        ("admin", {"is_admin": False, "is_owner": False}, "member"),  # no longer a Slack admin
        ("facilitator", {"is_admin": False}, "facilitator"),  # our grant stays
        ("facilitator", {"is_admin": True}, "admin"),
        ("admin", {}, "admin"),  # a profile without the flags says nothing of the role
    ],
)
def test_the_admin_role_follows_slack(before: str, slack_says: dict[str, bool], after: str) -> None:
    person = Person(workspace_id=1, slack_user_id="U1", role=before)
    apply_profile(person, {"id": "U1", **slack_says})
    assert person.role == after


def test_zone_departure_and_name() -> None:
    person = Person(workspace_id=1, slack_user_id="U1", role="member", timezone="UTC")
    apply_profile(person, {"tz": "Asia/Kolkata", "deleted": True, "real_name": "Ravi"})
    assert (person.timezone, person.is_deactivated, person.name) == ("Asia/Kolkata", True, "Ravi")
    apply_profile(person, {"tz": "Mars/Base"})
    assert person.timezone == "Asia/Kolkata"  # an unknown zone is ignored
