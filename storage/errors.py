"""Errors the storage library raises; the CLI turns them into one line and exit code 1."""
from __future__ import annotations


class StorageError(Exception):
    """Base class: something about the archive prevents the operation."""


class NotAnArchive(StorageError):
    """The directory does not exist or is not a kisi-archive archive."""


class UnknownDocument(StorageError):
    """No document matches the given id or URL."""


class UnknownVersion(StorageError):
    """The document has no such version."""


class CorruptSnapshot(StorageError):
    """A snapshot file cannot be read or does not match its hash."""


class IndexNotReady(StorageError):
    """A read-only archive's index is missing or of another schema (`reindex` rebuilds it)."""


class ReadOnlyArchive(StorageError):
    """A write was asked of an archive opened read-only."""
