"""CamAuth: an authentication gateway for camera and NVR web UIs."""

from .const import VERSION as __version__

__all__ = ["__version__"]
