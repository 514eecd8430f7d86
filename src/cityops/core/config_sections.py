"""The settings sections of the context hub, intake, alerts, web and the sector modules.

They are parts of the one `Settings` (core/config.py), which reads them from the environment:
`CITYOPS_<SECTION>__<NAME>`. Each field's description is its documentation (a test checks that
docs/configuration.md lists every one).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class NgsiLdSettings(BaseModel):
    """The NGSI-LD API of the context-data hub."""

    open_access: bool = Field(
        False,
        description=(
            "Serve /ngsi-ld without authentication (only behind a PEP proxy / API gateway, "
            "or for conformance runs); a loud warning is logged at start."
        ),
    )
    allow_remote_contexts: bool = Field(
        False,
        description="Fetch @context URLs that are not built in (cached, with a timeout).",
    )
    context_timeout_s: float = Field(
        5.0, gt=0, le=60, description="Timeout for fetching a remote @context, in seconds."
    )
    max_body_bytes: int = Field(
        10_000_000, ge=1024, description="Largest request body accepted (413 above it)."
    )
    default_limit: int = Field(20, ge=1, description="Entities per page when `limit` is not given.")
    max_limit: int = Field(
        1000, ge=1, description="Largest `limit` a client may ask for (TooManyResults above it)."
    )
    notification_queue_size: int = Field(
        10_000,
        ge=10,
        description="Entity changes waiting for subscription delivery; when full the oldest go.",
    )
    notification_timeout_s: float = Field(
        5.0, gt=0, le=120, description="Timeout of one HTTP notification attempt, in seconds."
    )
    notification_allowlist: list[str] = Field(
        default_factory=list,
        description=(
            "Host names or IP networks (JSON list) that notification endpoints may reach even "
            "though they are internal (loopback, private, link-local); others are refused."
        ),
    )
    notification_retries: int = Field(
        3, ge=0, le=10, description="Retries of a notification after a connection error or 5xx."
    )
    notification_backoff_s: float = Field(
        1.0, ge=0, le=60, description="Wait before the first retry, doubled for each next one."
    )
    notification_concurrency: int = Field(
        8, ge=1, le=256, description="Notifications being sent at the same time, at most."
    )
    subscription_refresh_s: float = Field(
        10.0,
        gt=0,
        description="How often each process reloads subscriptions changed by other processes.",
    )


class TemporalSettings(BaseModel):
    """The temporal store: history queries, rollups and retention."""

    max_instances: int = Field(
        10_000,
        ge=1,
        description=(
            "Most instances returned per attribute by a temporal query; above it the answer is "
            "206 Partial Content with a Content-Range header."
        ),
    )
    raw_retention_days: int = Field(
        90,
        ge=0,
        description=(
            "Days of raw attribute history kept; older instances are deleted once rolled up "
            "(hourly/daily rollups are kept forever). 0 keeps raw history forever."
        ),
    )
    rollups_enabled: bool = Field(
        True, description="Run the background job that maintains rollups and applies retention."
    )
    job_interval_s: float = Field(
        300.0, gt=0, description="Seconds between runs of the rollup and retention job."
    )
    rollup_lag_s: float = Field(
        60.0,
        ge=0,
        description="Seconds a new instance waits before the job rolls it up (late commits).",
    )
    partition_months_ahead: int = Field(
        3,
        ge=0,
        le=120,
        description=(
            "PostgreSQL: monthly history partitions kept ready after the current month "
            "(made at start-up and by the rollup job); readings beyond go to the DEFAULT one."
        ),
    )


class MqttSettings(BaseModel):
    """The MQTT intake: devices publish readings to a broker, CityOps subscribes."""

    enabled: bool = Field(
        False, description="Run the MQTT intake client inside the server (needs a broker)."
    )
    host: str = Field("127.0.0.1", min_length=1, description="Host name of the MQTT broker.")
    port: int = Field(1883, ge=1, le=65535, description="TCP port of the MQTT broker.")
    username: str | None = Field(
        None, description="User name CityOps connects with (None: anonymous)."
    )
    password: str | None = Field(None, description="Password CityOps connects with.")
    tls: bool = Field(False, description="Connect with TLS (system CA certificates).")
    client_id: str = Field(
        "cityops-intake",
        min_length=1,
        description="MQTT client id; the broker keeps its QoS 1 queue while CityOps restarts.",
    )
    topic_prefix: str = Field(
        "cityops", min_length=1, description="First topic level(s) of every intake topic."
    )
    batch_size: int = Field(
        500, ge=1, le=10_000, description="Most messages written in one transaction."
    )
    batch_window_ms: int = Field(
        50, ge=0, le=5000, description="How long a batch waits for more messages, in ms."
    )
    reconnect_max_s: float = Field(
        30.0, gt=0, le=3600, description="Longest wait between reconnection attempts, in s."
    )
    key_cache_s: float = Field(
        10.0, ge=0, le=3600, description="How long a device's API key look-up is cached, in s."
    )
    device_offline_minutes: float = Field(
        15.0,
        gt=0,
        description="Mark a Device offline after this many minutes without a reading (any intake).",
    )


class FieldReportsSettings(BaseModel):
    """Field reports (phản ánh hiện trường): working calendar, SLA, photos."""

    work_periods: str = Field(
        "07:30-11:30,13:30-17:00",
        pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}(,\d{2}:\d{2}-\d{2}:\d{2})*$",
        description="Working hours of a working day, as HH:MM-HH:MM periods separated by commas.",
    )
    work_days: list[int] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5],
        description="Working days as ISO weekday numbers (1 = Monday ... 7 = Sunday), JSON list.",
    )
    utc_offset_hours: float = Field(
        7.0, ge=-12, le=14, description="Offset of the local time of the working calendar from UTC."
    )
    accept_hours: float = Field(
        8.0, gt=0, description="Working hours an agency has to accept an assigned report."
    )
    urgent_hours: float = Field(
        4.0, gt=0, description="Working hours to resolve an urgent report (khẩn cấp)."
    )
    default_sla_hours: float = Field(
        37.5,
        gt=0,
        description="Working hours to resolve a normal report when its category sets none.",
    )
    complex_factor: float = Field(
        2.0, ge=1, description="Multiplier of the category's time for a complex report (phức tạp)."
    )
    near_due_hours: float = Field(
        2.0, ge=0, description="Working hours before a due time when the near-due event is sent."
    )
    auto_close_days: int = Field(
        7, ge=1, description="Days after resolution when an unrated report is closed."
    )
    check_interval_s: float = Field(
        300.0, gt=0, description="Seconds between runs of the deadline check."
    )
    max_photo_bytes: int = Field(
        10_000_000, ge=10_000, description="Largest photo accepted, in bytes (413 above it)."
    )
    max_photos: int = Field(5, ge=1, le=20, description="Most photos one report may have.")
    public_submission: bool = Field(
        True, description="Let citizens submit reports without logging in."
    )
    duplicate_radius_m: float = Field(
        150.0, gt=0, le=5000, description="Radius in metres within which reports may be duplicates."
    )
    duplicate_window_h: float = Field(
        72.0, gt=0, description="Hours apart within which reports may be duplicates."
    )
    submit_max: int = Field(
        5, ge=1, description="Anonymous submissions one device may send per submit window."
    )
    submit_max_per_ip: int = Field(
        20, ge=1, description="Anonymous submissions one IP address may send per submit window."
    )
    submit_window_minutes: float = Field(
        10.0, gt=0, description="Minutes over which anonymous submissions are counted."
    )
    spam_threshold: int = Field(
        50, ge=1, le=100, description="Spam score (0-100) at which a report is flagged."
    )
    banned_words: list[str] = Field(
        default_factory=lambda: ["cá độ", "cờ bạc", "casino", "vay tiền nhanh", "xổ số online"],
        description="Words that raise a report's spam score, as a JSON list (case-insensitive).",
    )
    notice_webhook: str | None = Field(
        None,
        description=(
            "Name of the webhook target (an SMS/Zalo gateway) that carries status notices to "
            "reporters' phones (None: e-mail only)."
        ),
    )


class PublicServicesSettings(BaseModel):
    """Public services (dịch vụ công): one-stop dossiers, near-late window, the source poller."""

    near_due_working_days: float = Field(
        1.0,
        ge=0,
        description="A dossier in progress is near-late when due within this many working days.",
    )
    utc_offset_hours: float = Field(
        7.0, ge=-12, le=14, description="Offset of local time from UTC (days and periods)."
    )
    check_interval_s: float = Field(
        300.0, gt=0, description="Seconds between runs of the near-due / overdue check."
    )
    source_url: str | None = Field(
        None,
        description="URL of the one-stop system's dossier feed to poll (None: no polling).",
    )
    source_token: str | None = Field(
        None, description="Bearer token sent to the dossier feed (None: none)."
    )
    poll_interval_s: float = Field(
        900.0, gt=0, description="Seconds between two polls of the dossier feed."
    )
    source_timeout_s: float = Field(
        30.0, gt=0, le=600, description="Timeout of one request to the dossier feed, in seconds."
    )


class WebSettings(BaseModel):
    """The web UI and its live feed."""

    live_buffer_size: int = Field(
        1000,
        ge=10,
        le=100_000,
        description="Events kept for reconnecting clients to catch up (entity changes apart).",
    )
    live_changes_buffer_size: int = Field(
        200,
        ge=10,
        le=100_000,
        description=(
            "Entity changes (every reading is one) kept for reconnecting clients to catch up, "
            "in a buffer of their own so that readings never push other events out."
        ),
    )
    live_queue_size: int = Field(
        500, ge=10, le=100_000, description="Events queued per live client before it is dropped."
    )
    live_heartbeat_s: float = Field(
        15.0, gt=0, le=300, description="Seconds between keep-alive comments on the live feed."
    )
    map_tile_url: str | None = Field(
        None, description="Raster tile URL template ({z}/{x}/{y}); unset: boundaries only."
    )
    map_tile_attribution: str = Field("", description="Attribution shown with the map tiles.")
    map_software_render_scale: float = Field(
        0.5,
        ge=0.25,
        le=1.0,
        description="Map resolution (share of the screen's pixels per side) where the browser "
        "draws WebGL in software (a wall PC without a GPU); 1: full resolution.",
    )


class NotifySettings(BaseModel):
    """Notifications: SMTP e-mail, webhooks, retries. Nothing is sent unless configured here."""

    smtp_host: str | None = Field(
        None, description="SMTP server that sends e-mail (None: no e-mail is sent)."
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="TCP port of the SMTP server.")
    smtp_user: str | None = Field(None, description="SMTP user name (None: no login).")
    smtp_password: str | None = Field(None, description="SMTP password.")
    smtp_from: str = Field(
        "cityops@localhost", min_length=3, description="Sender address of notification e-mail."
    )
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Timeout of one SMTP conversation, in seconds."
    )
    webhook_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Timeout of one webhook request, in seconds."
    )
    webhook_allowlist: list[str] = Field(
        default_factory=list,
        description=(
            "Host names or IP networks (JSON list) that webhooks may reach even though they "
            "are internal (loopback, private, link-local); others are refused."
        ),
    )
    max_attempts: int = Field(
        5, ge=1, le=50, description="Attempts of one delivery before it becomes a dead letter."
    )
    backoff_s: float = Field(
        30.0, ge=0, description="Wait before the first retry, doubled for each next one, in s."
    )
    backoff_max_s: float = Field(
        3600.0, ge=0, description="Longest wait between two attempts, in seconds."
    )
    concurrency: int = Field(
        8, ge=1, le=256, description="Deliveries being sent at the same time, at most."
    )
    worker_interval_s: float = Field(
        5.0, gt=0, description="Seconds between two looks of the delivery worker for due work."
    )
    worker_enabled: bool = Field(
        True, description="Run the delivery worker inside the server process."
    )
    base_url: str | None = Field(
        None, description="Public URL of this instance, to make links in e-mail absolute."
    )


class CapSettings(BaseModel):
    """The Common Alerting Protocol (CAP 1.2) feed of public alerts."""

    sender: str = Field(
        "ioc@cityops.invalid",
        min_length=3,
        description="CAP <sender>: the unique address of this alerting authority.",
    )
    sender_name_vi: str = Field(
        "Trung tâm Giám sát, điều hành đô thị thông minh",
        description="CAP <senderName> in Vietnamese.",
    )
    sender_name_en: str = Field(
        "Intelligent Operations Center", description="CAP <senderName> in English."
    )
    exercise: bool = Field(
        False,
        description="Mark every message <status>Exercise</status> (demo, training) not Actual.",
    )
    circle_radius_km: float = Field(
        2.0, gt=0, le=500, description="Radius of the CAP <circle> around a point alert, in km."
    )
    feed_size: int = Field(100, ge=1, le=1000, description="Most entries in the Atom feed.")


class AlertsSettings(BaseModel):
    """The alert rule engine: its queue, its sweep and escalation of unacknowledged alerts."""

    sweep_interval_s: float = Field(
        15.0, gt=0, le=3600, description="Seconds between sweeps (durations, absence, escalation)."
    )
    escalation_minutes: float = Field(
        15.0, gt=0, description="Minutes an open critical alert may stay unacknowledged."
    )
    queue_size: int = Field(
        100000, ge=100, description="Changes waiting for the engine, at most (then oldest dropped)."
    )
    batch_size: int = Field(
        500, ge=1, le=10000, description="Changes the engine evaluates in one database transaction."
    )
    engine_enabled: bool = Field(True, description="Run the rule engine inside the server process.")
