"""Initial schema: providers, models, price overrides, sync runs, effective prices view.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen here, not imported from radiant_registry.tables: this revision must create the
# same schema forever, whatever later code says. (The tables module's ExactDecimal is
# Numeric(20, 10), stored as text on SQLite; Json is JSONB on PostgreSQL.)
Timestamp = sa.DateTime(timezone=True)
ExactDecimal = sa.Numeric(20, 10).with_variant(sa.String(40), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EFFECTIVE_PRICES_SQL = """
CREATE VIEW effective_model_prices AS
SELECT m.provider_id,
       m.model_id,
       COALESCE(o.input_per_1m, m.input_per_1m) AS input_per_1m,
       COALESCE(o.output_per_1m, m.output_per_1m) AS output_per_1m,
       m.input_per_1m AS list_input_per_1m,
       m.output_per_1m AS list_output_per_1m,
       o.provider_id IS NOT NULL AS overridden,
       m.enabled,
       m.retired_at IS NOT NULL AS retired
FROM models m
LEFT JOIN price_overrides o
  ON o.provider_id = m.provider_id AND o.model_id = m.model_id
"""


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("api_base", sa.String(500), nullable=False),
        sa.Column("auth_type", sa.String(32), nullable=False),
        sa.Column("auth_header", sa.String(200)),
        sa.Column("auth_prefix", sa.String(200)),
        sa.Column("file_sha256", sa.String(64)),
        sa.Column("retired_at", Timestamp),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_providers"),
    )
    op.create_table(
        "models",
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("context_window", sa.Integer, nullable=False),
        sa.Column("max_output_tokens", sa.Integer, nullable=False),
        sa.Column("input_modalities", Json, nullable=False),
        sa.Column("output_modalities", Json, nullable=False),
        sa.Column("input_per_1m", ExactDecimal, nullable=False),
        sa.Column("output_per_1m", ExactDecimal),
        sa.Column("cache_read_per_1m", ExactDecimal),
        sa.Column("cache_write_per_1m", ExactDecimal),
        sa.Column("price_tiers", Json, nullable=False),
        sa.Column("capabilities", Json, nullable=False),
        sa.Column("is_novel", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("release_date", sa.Date),
        sa.Column("deprecation_date", sa.Date),
        sa.Column("aliases", Json, nullable=False),
        sa.Column("source_url", sa.Text),
        sa.Column("verified_at", sa.Date),
        sa.Column("retired_at", Timestamp),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("switch_reason", sa.Text),
        sa.Column("switched_by", sa.String(200)),
        sa.Column("switched_at", Timestamp),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("provider_id", "model_id", name="pk_models"),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name="fk_models_provider_id_providers"
        ),
    )
    op.create_table(
        "price_overrides",
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("input_per_1m", ExactDecimal),
        sa.Column("output_per_1m", ExactDecimal),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("provider_id", "model_id", name="pk_price_overrides"),
        sa.ForeignKeyConstraint(
            ["provider_id", "model_id"],
            ["models.provider_id", "models.model_id"],
            name="fk_price_overrides_provider_id_models",
        ),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("providers", Json),
        sa.Column("created", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retired", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
        sa.Column("files_sha256", sa.String(64)),
        sa.Column("tool_version", sa.String(32), nullable=False),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_sync_runs"),
    )
    op.execute(EFFECTIVE_PRICES_SQL)


def downgrade() -> None:
    op.execute("DROP VIEW effective_model_prices")
    op.drop_table("sync_runs")
    op.drop_table("price_overrides")
    op.drop_table("models")
    op.drop_table("providers")
