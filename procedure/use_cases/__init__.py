"""The use cases the chat and the CLI both call. Each runs in one unit of work with its event."""
