"""Cycle end: grading instants, committed objectives, retro votes and participation,
kept summaries and carry-over offers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"], ["workspace.id"], name=op.f(f"fk_{table}_workspace_id_workspace"),
        ondelete="CASCADE",
    )  # fmt: skip


def _scoped_fk(
    table: str, column: str, parent: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id", column], [f"{parent}.workspace_id", f"{parent}.id"],
        name=op.f(f"fk_{table}_workspace_id_{column}_{parent}"), ondelete=ondelete,
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "cycle_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _scoped_fk("cycle_summary", "cycle_id", "cycle", "CASCADE"),
        _workspace_fk("cycle_summary"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_summary")),
        sa.UniqueConstraint(
            "workspace_id",
            "cycle_id",
            "scope",
            name=op.f("uq_cycle_summary_workspace_id_cycle_id_scope"),
        ),  # fmt: skip
    )
    # No time and no order on participation: nothing lines it up with an anonymous answer.
    op.create_table(
        "retro_participation",
        sa.Column("retro_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("voted", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        _scoped_fk("retro_participation", "person_id", "person"),
        _scoped_fk("retro_participation", "retro_id", "retro", "CASCADE"),
        _workspace_fk("retro_participation"),
        sa.PrimaryKeyConstraint("retro_id", "person_id", name=op.f("pk_retro_participation")),
    )
    op.create_table(
        "retro_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("retro_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_retro_vote_rating_range")),
        _scoped_fk("retro_vote", "person_id", "person"),
        _scoped_fk("retro_vote", "retro_id", "retro", "CASCADE"),
        _workspace_fk("retro_vote"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_vote")),
        sa.UniqueConstraint("retro_id", "person_id", name=op.f("uq_retro_vote_retro_id_person_id")),
    )
    op.create_table(
        "carry_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("key_result_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("carried_key_result_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "decision IN ('offered', 'kept', 'adjusted', 'dropped')",
            name=op.f("ck_carry_offer_decision_allowed"),
        ),
        _scoped_fk("carry_offer", "carried_key_result_id", "key_result"),
        _scoped_fk("carry_offer", "cycle_id", "cycle", "CASCADE"),
        _scoped_fk("carry_offer", "key_result_id", "key_result", "CASCADE"),
        _scoped_fk("carry_offer", "person_id", "person"),
        _workspace_fk("carry_offer"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carry_offer")),
        sa.UniqueConstraint("key_result_id", name=op.f("uq_carry_offer_key_result_id")),
    )
    # Batch mode: SQLite cannot add a CHECK to a table in place.
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grading_started_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("grading_ends_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("retro_ends_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("grade", schema=None) as batch_op:
        batch_op.add_column(sa.Column("measured_hundredths", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("from_measured", sa.Boolean(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("objective", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "commitment", sa.String(length=16), server_default="aspirational", nullable=False
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_objective_commitment_allowed"),
            "commitment IN ('aspirational', 'committed')",
        )


def downgrade() -> None:
    with op.batch_alter_table("objective", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_objective_commitment_allowed"), type_="check")
        batch_op.drop_column("commitment")
    with op.batch_alter_table("grade", schema=None) as batch_op:
        batch_op.drop_column("from_measured")
        batch_op.drop_column("measured_hundredths")
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.drop_column("retro_ends_at")
        batch_op.drop_column("grading_ends_at")
        batch_op.drop_column("grading_started_at")
    op.drop_table("carry_offer")
    op.drop_table("retro_vote")
    op.drop_table("retro_participation")
    op.drop_table("cycle_summary")
