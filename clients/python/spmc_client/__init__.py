"""Python client of Spmc over gRPC (stubs from clients/python/generate.sh; run with Debian's /usr/bin/python3)."""

from . import ffa
from .client import Answer, FfaError, ServerUnavailable, Spmc, SpmcError

__all__ = ["Spmc", "Answer", "SpmcError", "ServerUnavailable", "FfaError", "ffa"]
