"""greenopt: feasibility-aware scheduling of AI training across renewable micro-datacenters."""

import importlib.metadata

try:
    __version__ = importlib.metadata.version("greenopt")
except importlib.metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"
