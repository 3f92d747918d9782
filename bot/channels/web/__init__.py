"""The ward's web chat (C7): a WebSocket and one static page on the process's web application."""

from bot.channels.web.channel import WebChannel, WebChatOptions

__all__ = ["WebChannel", "WebChatOptions"]
