"""Every failure a user can cause or fix, under one base class the CLI and API convert once."""

from __future__ import annotations


class SocialAuditError(Exception):
    """Base of every expected failure; its message says what went wrong and how to fix it.

    ``exit_code`` is what the CLI exits with: 2 for bad input or usage, 1 for anything else.
    """

    exit_code = 1


class SourceError(SocialAuditError, ValueError):
    """Raised when an input file cannot be read as its format (empty, binary, truncated)."""

    exit_code = 2


class StoreError(SocialAuditError):
    """Raised when the store cannot be opened, migrated or written."""


class StoreNotFound(StoreError):
    """Raised when a command that reads a store finds no store at the path given (bad input)."""

    exit_code = 2


class StoreBusy(StoreError):
    """Raised when another process holds the store (a running ``serve``, a long import)."""


class MigrationError(StoreError):
    """Raised when a migration fails or the store is newer than this socialaudit."""


class TableNotFound(StoreError):
    """Raised when a caller asks the store for a table it does not have."""

    exit_code = 2


class ImportCheckError(StoreError):
    """Raised when an import's counts do not reconcile.

    That is, read != inserted + duplicates + quarantined.

    The import is rolled back: this guards the "nothing is lost" promise.
    """


class EnrichError(SocialAuditError):
    """Raised when an enricher cannot run over the posts given."""


class MetricError(SocialAuditError):
    """Raised when a metric cannot be computed, e.g. for an org not in the store."""

    exit_code = 2


class ConfigError(SocialAuditError, ValueError):
    """Raised for a bad option value or configuration file (orgs.toml, --map, --older-than)."""

    exit_code = 2


class CollectError(SocialAuditError):
    """Raised when a live collection cannot go on (credentials refused, retries exhausted).

    Also for a cursor that loops. What was collected before is stored; the run resumes.
    """


class CredentialError(CollectError):
    """Raised when a platform refuses the credentials given (at login or in mid-run).

    The message names the environment variable (or config key) to fix. Pages stored before
    the refusal stay stored with their cursor, so the next run resumes after them.
    """

    exit_code = 2
