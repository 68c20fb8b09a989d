"""oncall-assistant from Python: the same engine as the server and the CLI,
in-process.

    import oncall
    oc = oncall.OnCall("sqlite://oncall.db", encryption_key=KEY)
    oc.add_datasource("prom", "prometheus", "http://localhost:9090")
    a = oc.analyze(open("alert.json").read())
    print(a.status, a.result["root_cause"])

Every method runs as the local admin (whoever holds the database holds the
engine). Errors are subclasses of `OnCallError`.
"""

from ._oncall import (
    AccuracyReport,
    Analysis,
    AsyncOnCall,
    Conflict,
    ConnectionTest,
    DataSource,
    Forbidden,
    InternalError,
    InvalidInput,
    NotFound,
    OnCall,
    OnCallError,
    RateLimited,
    Ticket,
    TooLarge,
    Unauthorized,
    Unavailable,
    User,
    __version__,
)

__all__ = [
    "AccuracyReport",
    "Analysis",
    "AsyncOnCall",
    "Conflict",
    "ConnectionTest",
    "DataSource",
    "Forbidden",
    "InternalError",
    "InvalidInput",
    "NotFound",
    "OnCall",
    "OnCallError",
    "RateLimited",
    "Ticket",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "User",
    "__version__",
]
