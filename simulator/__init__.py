"""hashkey-sim: a local HashKey spot exchange that speaks the venue's REST API exactly."""

__version__ = "0.1.0"

from simulator.app import create_app  # noqa: E402

__all__ = ["create_app", "__version__"]
