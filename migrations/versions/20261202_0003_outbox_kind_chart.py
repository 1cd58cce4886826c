"""outbox.kind allows chart: the team digest's PNG, posted in the digest's thread

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The kinds as they stood at each revision (not imported from the models, which move on).
BEFORE = (
    "prompt",
    "dm",
    "reminder",
    "pull",
    "digest",
    "company_digest",
    "report",
    "update",
    "grading",
    "grading_reminder",
    "carry_over",
    "retro",
    "summary",
    "notice",
)
AFTER = (*BEFORE, "chart")


def _allowed(kinds: Sequence[str]) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def _replace_check(kinds: Sequence[str]) -> None:
    # Batch mode: SQLite cannot alter a CHECK, so the table is copied with the new one.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_kind_allowed"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_kind_allowed"), _allowed(kinds))


def upgrade() -> None:
    _replace_check(AFTER)


def downgrade() -> None:
    # A chart row cannot stay under the old CHECK: charts are dropped with it.
    op.execute("DELETE FROM outbox WHERE kind = 'chart'")
    _replace_check(BEFORE)
