"""Allow ``python -m camauth``."""

from .cli import main

raise SystemExit(main())
