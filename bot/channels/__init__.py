"""Chat channels: one folder per platform, each a small class with a route and a send
(see :mod:`bot.channels.base`)."""
