"""pgpart: Python client for the pgpart PostgreSQL partition-manager extension.

All partitioning logic lives in the extension (schema ``pgpart``); this package
calls its functions and adapts the results to Python types.
"""

__version__ = "0.2.0"  # must equal default_version in pgpart.control (tests/client/test_version.py)

from . import errors
from ._convert import ConvertStep
from .client import Client
from .errors import PgpartError, PgpartWarning
from .types import (
    EnsureReport,
    Finding,
    GlobalUnique,
    GlobalUniqueInfo,
    InstallReport,
    LoadReport,
    MaintenanceAction,
    MaintenanceReport,
    MovedRange,
    PartitionInfo,
    PolicyChange,
    RetentionReport,
    Step,
    Unmanaged,
)

__all__ = [
    "Client",
    "ConvertStep",
    "EnsureReport",
    "Finding",
    "GlobalUnique",
    "GlobalUniqueInfo",
    "InstallReport",
    "LoadReport",
    "MaintenanceAction",
    "MaintenanceReport",
    "MovedRange",
    "PartitionInfo",
    "PgpartError",
    "PgpartWarning",
    "PolicyChange",
    "RetentionReport",
    "Step",
    "Unmanaged",
    "__version__",
    "errors",
]
