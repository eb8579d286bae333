"""The store (one SQLite file shared by the batch, the web app and the read commands): ``database``
(the ``Store`` and its queue), ``records`` (rows and claims), ``migrations`` (the schema), ``feedback``
(coaches' judgements and their export as labeled calls)."""

from pipeline.store.database import Store
from pipeline.store.migrations import SCHEMA_VERSION
from pipeline.store.records import (
    CRASHES_BEFORE_FAILED,
    DEFAULT_LEASE_S,
    CallRow,
    DiscoveredCall,
    FileInfo,
    Owner,
    report_metrics,
)

__all__ = [
    "CRASHES_BEFORE_FAILED", "DEFAULT_LEASE_S", "SCHEMA_VERSION", "CallRow", "DiscoveredCall", "FileInfo", "Owner",
    "Store", "report_metrics",
]
