"""The ingest stage: file formats into the store.

Importing this package registers the built-in formats (explicitly, in this order: the first
whose ``sniff`` matches wins, after formats with a higher ``sniff_priority``).
"""

from socialaudit.ingest import generic, twcs  # noqa: F401, I001  (registration)
from socialaudit.ingest import x, mastodon, bluesky, reddit, youtube, zeeschuimer  # noqa: F401
from socialaudit.ingest.base import REGISTRY, Importer, ImportOptions, register
from socialaudit.ingest.core import ImportResult, import_file

__all__ = ["REGISTRY", "ImportOptions", "ImportResult", "Importer", "import_file", "register"]
