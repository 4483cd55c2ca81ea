"""Names and defaults that the public contract fixes."""

from typing import Final

VERSION: Final = "0.2.0"

COOKIE_NAME: Final = "camauth_token"
DEVICE_COOKIE: Final = "camauth_device"
DEVICE_COOKIE_DAYS: Final = 365
API_KEY_HEADER: Final = "X-API-Key"

DEFAULT_DATA_DIR: Final = "./camauth-data"
# A gateway serves the other devices of the home, so it listens on every interface.
DEFAULT_HOST: Final = "0.0.0.0"  # noqa: S104  # nosec B104
DEFAULT_PORT: Final = 8971
DEFAULT_INGRESS_PORT: Final = 8099

DATABASE_FILE: Final = "camauth.db"
OPTIONS_FILE: Final = "options.json"
JWT_SECRET_FILE: Final = ".jwt_secret"  # noqa: S105 - a file name, not a secret
JWT_SECRET_ENV: Final = "CAMAUTH_JWT_SECRET"  # noqa: S105 - a variable name
DATA_DIR_ENV: Final = "CAMAUTH_DATA_DIR"

ROLE_ADMIN: Final = "admin"
ROLE_VIEWER: Final = "viewer"
ROLES: Final = (ROLE_ADMIN, ROLE_VIEWER)

ADMIN_USERNAME: Final = "admin"

# Methods a viewer may use: they cannot change anything on the camera UI.
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

LOGIN_PATH: Final = "/login"
RESERVED_PREFIX: Final = "/camauth"  # every CamAuth path is also served under it
