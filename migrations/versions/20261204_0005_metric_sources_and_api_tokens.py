"""metric sources (secret and last pull of a sourced key result), push API tokens and their
idempotency records; checkin.api_token_id names the token a pushed check-in came by

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# SQLite's batch mode copies the checkin table, which drops its triggers: the append-only
# trigger (revision 0001) is made again on the copy.
_REFUSAL = "check-ins are append-only: insert a new revision or a retraction instead"


def _sqlite_append_only_again() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS checkin_append_only")
        op.execute(
            "CREATE TRIGGER checkin_append_only BEFORE UPDATE ON checkin "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
        )


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_person_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_window", sa.Integer(), nullable=False),
        sa.Column("rate_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "created_by_person_id"],
            ["person.workspace_id", "person.id"],
            name=op.f("fk_api_token_workspace_id_created_by_person_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_api_token_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
        sa.UniqueConstraint("workspace_id", "id", name=op.f("uq_api_token_workspace_id_id")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_api_token_workspace_id_name")),
    )
    op.create_table(
        "api_idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_token.id"],
            name=op.f("fk_api_idempotency_token_id_api_token"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_api_idempotency_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency")),
        sa.UniqueConstraint("token_id", "key", name=op.f("uq_api_idempotency_token_id_key")),
    )
    with op.batch_alter_table("api_idempotency", schema=None) as batch_op:
        batch_op.create_index("ix_api_idempotency_created", ["created_at"], unique=False)

    op.create_table(
        "metric_source_state",
        sa.Column("key_result_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("set_by_person_id", sa.Integer(), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("last_value", sa.Double(), nullable=True),
        sa.Column("last_good_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id", "key_result_id"],
            ["key_result.workspace_id", "key_result.id"],
            name=op.f("fk_metric_source_state_workspace_id_key_result_id_key_result"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "set_by_person_id"],
            ["person.workspace_id", "person.id"],
            name=op.f("fk_metric_source_state_workspace_id_set_by_person_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_metric_source_state_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_result_id", name=op.f("pk_metric_source_state")),
    )
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_token_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_checkin_workspace_id_api_token_id_api_token"),
            "api_token",
            ["workspace_id", "api_token_id"],
            ["workspace_id", "id"],
        )
    _sqlite_append_only_again()


def downgrade() -> None:
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_checkin_workspace_id_api_token_id_api_token"), type_="foreignkey"
        )
        batch_op.drop_column("api_token_id")
    _sqlite_append_only_again()

    op.drop_table("metric_source_state")
    with op.batch_alter_table("api_idempotency", schema=None) as batch_op:
        batch_op.drop_index("ix_api_idempotency_created")

    op.drop_table("api_idempotency")
    op.drop_table("api_token")
