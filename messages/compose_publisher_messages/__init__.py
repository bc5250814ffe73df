"""fedora-messaging schemas of the messages compose-publisher sends."""

__version__ = "1.0.0"

from .container import (  # noqa: F401
    ContainerBlocked,
    ContainerOverridden,
    ContainerPublished,
    ContainerSkipped,
    ContainerStale,
    ContainerSuperseded,
)
