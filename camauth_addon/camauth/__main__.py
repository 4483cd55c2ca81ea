"""Allow ``python -m camauth``."""

from .cli.main import main

raise SystemExit(main())
