"""A committed objective is marked beside its progress in both digests (aspirational, the
default, is not), as it is in the lists and on `/okr show`."""

from __future__ import annotations

import pytest

from bot.blocks.company_digest import CompanyDigest, CompanyObjective, build_company_digest
from bot.blocks.digest import DigestData, DigestObjective, build_digest_parts


def _line(blocks: list[dict[str, object]], ref: str) -> str:
    found = [str(b) for b in blocks if f"*{ref}*" in str(b)]
    assert found, f"{ref} is not in the message"
    return found[0]


@pytest.mark.parametrize(("committed", "marked"), [(True, True), (False, False)])
def test_team_digest_marks_a_committed_objective(committed: bool, marked: bool) -> None:
    objective = DigestObjective("O7", "Ship it", 0.5, 0.1, False, None, (), committed=committed)
    data = DigestData("Team", "2026-W48", 0.5, (objective,), (), (), (), (), (), (), ())
    blocks = [b for part in build_digest_parts(data) for b in part]
    assert ("_committed_" in _line(blocks, "O7")) is marked


@pytest.mark.parametrize(("committed", "marked"), [(True, True), (False, False)])
def test_company_digest_marks_a_committed_objective(committed: bool, marked: bool) -> None:
    objective = CompanyObjective("O1", "Grow", 0.4, 0.5, 2, (), committed=committed)
    blocks = build_company_digest(CompanyDigest("2026-Q4", "2026-12-01", 0.5, (objective,), ()))
    assert ("_committed_" in _line(blocks, "O1")) is marked
