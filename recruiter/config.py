"""Defaults for every setting; the instance folder and RECRUITER_* variables override them."""

from datetime import timedelta

# A development-only key. create_app refuses it outside development and testing.
DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 (refused outside development)  # nosec B105


class Defaults:
    """Settings that hold unless the instance config or the environment says otherwise."""

    SECRET_KEY = DEFAULT_SECRET_KEY
    # "development" (set by scripts/serve: RECRUITER_ENV=development) allows the default key,
    # debug mode and cookies over plain HTTP; anything else is treated as production.
    ENV = "production"
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust.
    TRUSTED_PROXIES = 0
    COMPANY_NAME = "Acme Robotics"
    # Filled in by create_app: SQLite in the instance folder.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLITE_BUSY_TIMEOUT_MS = 5000

    # Mail. With MAIL_SERVER unset, messages go to the development mailbox in the app.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Acme Robotics Hiring <hiring@acme.example>"
    MAIL_TIMEOUT_SECONDS = 10.0
    # The name said in EHLO; unset, Python asks the resolver (socket.getfqdn()).
    MAIL_LOCAL_HOSTNAME: str | None = None
    MAIL_MAX_EMAILS = 50
    OUTBOX_BATCH_SIZE = 50
    OUTBOX_LEASE_SECONDS = 120
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_RETRY_BASE_SECONDS = 30
    OUTBOX_POLL_SECONDS = 2.0

    # Sign-in. Werkzeug's default scrypt parameters are below OWASP ASVS 5.0; this meets it.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:600000"  # noqa: S105 (a method, not a password)  # nosec B105
    REMEMBER_COOKIE_DURATION = timedelta(days=7)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Sign-in throttling, counted in the database so every app process sees the same counts.
    SIGNIN_WINDOW = timedelta(minutes=15)
    SIGNIN_MAX_FAILURES_PER_ACCOUNT = 5
    SIGNIN_MAX_FAILURES_PER_ADDRESS = 30

    # Request size: a friendly 413 beyond these.
    MAX_CONTENT_LENGTH = 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 256 * 1024

    # Privacy: candidates without consent are erased this long after the last decision.
    RETENTION_MONTHS = 12

    # Rejections (issue 3): when a scheduled note goes out. See the README, "Timing".
    REJECTION_UNDO_MINUTES = 10
    REJECTION_MIN_HOURS_AFTER_APPLYING = 24
    BUSINESS_HOURS_ENABLED = True
    BUSINESS_HOURS = "09:00-17:00"
    BUSINESS_DAYS = "Mon-Fri"
    # The team's time zone: times on screen are shown in it (and in the candidate's).
    TEAM_TIMEZONE = "UTC"
    NO_GHOSTING_DAYS = 10
    # Figures over a long history (the median days to a decision) are recomputed at most
    # this often and shared by every app process through the database.
    FIGURES_MAX_AGE_SECONDS = 600
    BULK_CONFIRM_ABOVE = 20

    # Pages.
    PAGE_SIZE = 50
    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    # The silver-medalist pool: how long consent lasts, when to ask for an extension, how
    # long a consent request stays open, and the default keep-in-touch cadence.
    POOL_CONSENT_MONTHS = 24
    # Where candidates reach the public pages; used for links in mail sent from commands.
    PUBLIC_BASE_URL = "http://localhost:5000"
    POOL_EXTENSION_NOTICE_DAYS = 30
    POOL_CONSENT_REQUEST_DAYS = 60
    POOL_CADENCE_MONTHS = 3

    # Referrals: ask the candidate before the receiving manager sees a referral, and how long
    # the candidate's link to answer stays valid.
    REFERRALS_ASK_CANDIDATE = True
    REFERRALS_LINK_DAYS = 30
