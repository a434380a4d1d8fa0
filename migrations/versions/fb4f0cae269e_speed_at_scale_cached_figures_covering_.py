"""Speed at scale: cached figures, covering waiting index, follow-up indexes

The cached_figure table keeps costly figures (the managers' median days to a decision) for
every app process. The decisions-waiting index (stage, time in stage) also holds the
opening, so rows of other managers' openings are skipped without reading them. The two follow-up indexes are in the due list's order
(replies first, then the longest overdue), for the team and for each vouching manager.

Indexes are created with plain operations, not batch mode: on SQLite a batch rebuild of
silver_medalist would drop the full-text triggers that live on it.

Revision ID: fb4f0cae269e
Revises: 590c144842ac
Create Date: 2026-11-23 16:43:01.177876

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "fb4f0cae269e"
down_revision = "590c144842ac"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cached_figure",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cached_figure")),
    )
    op.drop_index("ix_application_stage_changed", table_name="application")
    op.create_index(
        "ix_application_stage_changed",
        "application",
        ["stage", "stage_changed_at", "opening_id"],
        unique=False,
    )
    op.create_index(
        "ix_silver_medalist_follow_up",
        "silver_medalist",
        [sa.literal_column("paused DESC"), "next_touch_due"],
        unique=False,
    )
    op.create_index(
        "ix_silver_medalist_vouched_follow_up",
        "silver_medalist",
        ["vouched_by_id", sa.literal_column("paused DESC"), "next_touch_due"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_silver_medalist_vouched_follow_up", table_name="silver_medalist")
    op.drop_index("ix_silver_medalist_follow_up", table_name="silver_medalist")
    op.drop_index("ix_application_stage_changed", table_name="application")
    op.create_index(
        "ix_application_stage_changed", "application", ["stage", "stage_changed_at"], unique=False
    )
    op.drop_table("cached_figure")
