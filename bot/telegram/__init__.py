"""Moved to bot/channels/telegram/; these modules only re-export for older imports."""
