"""Telegram, through aiogram 3 (default) or python-telegram-bot 22 (C7): thin adapters over the
same channel-neutral conversations."""
