"""All of casetrail's configuration: one pydantic-settings class, read once at start-up."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every ``CASETRAIL_*`` setting, with its default."""

    model_config = SettingsConfigDict(env_prefix="CASETRAIL_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="sqlite:///var/casetrail.db",
        description="sqlite:///PATH (embedded default) or postgresql+psycopg://USER:PW@HOST:PORT/DB",
    )
    host: str = "127.0.0.1"
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
    command_attempts: int = Field(default=5, ge=1, description="decisions tried on a lost race")
    threadpool_size: int = Field(default=40, ge=1, description="sync endpoint worker threads")
    pool_size: int | None = Field(default=None, description="DB pool; default threadpool_size")
    max_body_bytes: int = 1024 * 1024
    page_size_max: int = 500
    embedded_projections: bool = Field(
        default=True, description="run projection runners inside the API process"
    )
    projection_batch_size: int = Field(default=1000, ge=1, le=10_000)
    read_wait_seconds: float = Field(
        default=3.0, ge=0, description="how long a GET waits for min_position before 503"
    )
    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="JSON logs; default on in production")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def effective_pool_size(self) -> int:
        return self.pool_size or self.threadpool_size
