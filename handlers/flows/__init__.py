"""The conversations, one module per flow. Importing this package registers every step."""

from handlers.flows import opinion, privacy, profile, registration, tracking  # noqa: F401
