"""All of casetrail's configuration: one pydantic-settings class, read once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.allocation import DEFAULT_REQUIRED_TRAINING

DEFAULT_MANDATORY_TRAINING = ("safeguarding_children", "domestic_abuse", "risk_of_serious_harm")


class OversightSettings(BaseModel):
    """Thresholds of the oversight queue, compliance rates and quality indicators.

    Set one as ``CASETRAIL_OVERSIGHT__<NAME>``, e.g. ``CASETRAIL_OVERSIGHT__INDUCTION_DAYS=5``.
    Days are business days in England (bank holidays excluded) unless the name says otherwise.
    """

    induction_days: int = Field(default=5, ge=1, description="opening to induction")
    sentence_plan_days: int = Field(default=15, ge=1, description="induction to sentence plan")
    enforcement_decision_days: int = Field(
        default=5, ge=1, description="unacceptable failure to enforcement decision"
    )
    oversight_after_risk_days: int = Field(
        default=5, ge=1, description="high-risk assessment or escalation to SPO oversight"
    )
    oversight_interval_calendar_days: int = Field(default=90, ge=1)
    mappa_level1_review_calendar_days: int = Field(default=90, ge=1)
    risk_review_days: int = Field(default=5, ge=1, description="significant event to review")
    enquiry_response_days: int = Field(default=10, ge=1)
    recall_decision_hours: int = Field(default=24, ge=1, description="recall request to decision")
    home_visit_days: int = Field(default=20, ge=1, description="induction to home visit")
    allocation_training_days: int = Field(
        default=0,
        ge=0,
        description="an allocation overridden for missing training to the training (0: at once)",
    )
    due_soon_days: int = Field(default=5, ge=0, description="queue lists items due this soon")
    unpaid_work_completion_months: int = Field(default=12, ge=1)


class Settings(BaseSettings):
    """Every ``CASETRAIL_*`` setting, with its default."""

    model_config = SettingsConfigDict(
        env_prefix="CASETRAIL_", env_nested_delimiter="__", extra="ignore"
    )

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="sqlite:///var/casetrail.db",
        description="sqlite:///PATH (embedded default) or postgresql+psycopg://USER:PW@HOST:PORT/DB",
    )
    host: str = "127.0.0.1"
    workers: int = Field(
        default=1, ge=1, description="API server processes (`casetrail serve`); one per core"
    )
    port: int = 8000
    var_dir: Path = Path("var")
    jwt_secret: str | None = Field(default=None, description="HS256 secret; dev creates one")
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = 60
    integrity_key: str | None = Field(
        default=None, description="HMAC key of the events' tamper-evident chain; dev creates one"
    )
    snapshot_interval: int = Field(default=100, ge=1)
    # Cases kept decoded in memory between commands and reads (0: none). Each is brought up to
    # date with one indexed read of any events another process wrote since.
    aggregate_cache_size: int = Field(default=500, ge=0)
    command_attempts: int = Field(default=10, ge=1, description="decisions tried on a lost race")
    threadpool_size: int = Field(default=40, ge=1, description="sync endpoint worker threads")
    pool_size: int | None = Field(default=None, description="DB pool; default threadpool_size")
    max_body_bytes: int = 1024 * 1024
    page_size_max: int = 500
    projections: Literal["worker", "embedded", "off"] = Field(
        default="worker",
        description=(
            "where read models are kept up to date: `worker` (`casetrail serve` starts a "
            "projection process beside the API and stops it with the API), `embedded` (a "
            "thread of the API process; tests), `off` (run `casetrail projections run` yourself)"
        ),
    )
    embedded_projections: bool | None = Field(
        default=None, description="deprecated: true means projections=embedded, false off"
    )
    projection_batch_size: int = Field(default=1000, ge=1, le=10_000)
    projection_linger_ms: float = Field(
        default=25.0,
        ge=0,
        le=1000,
        description="while commands arrive side by side, wait this long before the next batch",
    )
    read_wait_seconds: float = Field(
        default=3.0, ge=0, description="how long a GET waits for min_position before 503"
    )
    oversight: OversightSettings = Field(default_factory=OversightSettings)
    encryption_key: str | None = Field(
        default=None, description="base64 of 32 bytes: the master key, which wraps the data keys"
    )
    previous_encryption_keys: str | None = Field(
        default=None,
        description="comma-separated earlier master keys: still unwrap, until `keys rotate`",
    )
    jwt_public_key: str | None = Field(
        default=None, description="RS256: a PEM public key, or the path of a PEM or JWKS file"
    )
    rate_limit: str | None = Field(
        default=None, description="per-token command rate limit, e.g. 600/minute; off if unset"
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="the API's public base URL: domain events' detailUrl starts with it",
    )
    webhook_allowed_hosts: str = Field(
        default="",
        description="comma-separated hosts a webhook may use over http or at a private address",
    )
    webhook_max_attempts: int = Field(default=8, ge=1, description="attempts before parking")
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_backoff_seconds: float = Field(
        default=1.0, ge=0, description="first retry delay; doubles per attempt, with jitter"
    )
    webhook_backoff_max_seconds: float = Field(default=3600.0, ge=0)
    # Issue 13: the allocation guard, mandatory training and the equality figures.
    required_training: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_REQUIRED_TRAINING),
        description="offence flag or registration code -> training module it requires (JSON)",
    )
    capacity_limit_percent: int = Field(
        default=120, ge=1, description="an allocation may not take a practitioner above this"
    )
    mandatory_training: list[str] = Field(
        default_factory=lambda: list(DEFAULT_MANDATORY_TRAINING),
        description="modules every member of staff must hold current (JSON list)",
    )
    equality_min_count: int = Field(
        default=10, ge=1, description="groups with fewer cases than this are suppressed"
    )
    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="JSON logs; default on in production")

    @model_validator(mode="after")
    def _legacy_embedded(self) -> Settings:
        """CASETRAIL_EMBEDDED_PROJECTIONS, the setting before `projections`, still works."""
        if self.embedded_projections is not None and "projections" not in self.model_fields_set:
            self.projections = "embedded" if self.embedded_projections else "off"
        return self

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def allowed_webhook_hosts(self) -> frozenset[str]:
        return frozenset(
            h.strip().lower() for h in self.webhook_allowed_hosts.split(",") if h.strip()
        )

    @property
    def effective_pool_size(self) -> int:
        return self.pool_size or self.threadpool_size
