"""Files the tests read; each lives in the repository, so a fresh clone has them."""

from pathlib import Path

DATA = Path(__file__).parent
