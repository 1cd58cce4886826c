"""OKR quality lint: each rule fires when it should and only then."""

from __future__ import annotations

from datetime import date

import pytest

from bot.okr.lint import KeyResultFacts, ObjectiveFacts, lint_objective

Q1 = (date(2027, 1, 1), date(2027, 3, 31))


def kr(
    title: str = "Weekly active teams from 40 to 60",
    kind: str = "number",
    start: float = 40,
    target: float = 60,
    owner: bool = True,
) -> KeyResultFacts:
    return KeyResultFacts(title, kind, start, target, owner)


def objective(
    title: str = "Teams love planning with us",
    level: str = "company",
    owner: bool = True,
    aligned: bool = False,
    krs: tuple[KeyResultFacts, ...] = (kr(), kr("NPS from 30 to 50")),
) -> ObjectiveFacts:
    return ObjectiveFacts(title, level, owner, aligned, krs, *Q1)


@pytest.mark.parametrize(
    ("facts", "codes"),
    [
        (objective(), []),
        (objective("Grow revenue 20%"), ["number_in_objective"]),
        (objective("Reach $1.2M ARR"), ["number_in_objective"]),
        (objective(krs=(kr(),)), ["too_few_key_results"]),
        (objective(krs=(kr(),) * 6), ["too_many_key_results"]),
        (objective(owner=False), ["no_owner"]),
        (objective(level="team"), ["not_aligned"]),
        (objective(level="team", aligned=True), []),
        (
            objective(
                krs=(kr(), kr("Launch the new onboarding", kind="milestone", start=0, target=1))
            ),
            ["activity"],
        ),
        (
            objective(
                krs=(
                    kr(),
                    kr("Ship the mobile app by 2027-03-15", kind="milestone", start=0, target=1),
                )
            ),
            ["activity"],
        ),
        (objective(krs=(kr(), kr("Churn stays put", start=5, target=5))), ["no_target"]),
        (objective(krs=(kr(), kr(owner=False))), ["kr_no_owner"]),
        (objective("Be ready by 2027-06-01"), ["date_outside_cycle"]),
        (objective(krs=(kr(), kr("Signed contracts by 2027-05-01"))), ["date_outside_cycle"]),
        (objective(krs=(kr(), kr("Signed contracts by 2027-02-30"))), []),  # not a real date
    ],
)
def test_lint_rules(facts: ObjectiveFacts, codes: list[str]) -> None:
    warnings = lint_objective(facts)
    assert [w.code for w in warnings] == codes
    for warning in warnings:
        assert warning.message.endswith((".", ")", "`.")) and len(warning.message) > 30
