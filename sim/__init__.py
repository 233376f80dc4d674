"""sim: a turn-based engine for LLM agents and bots in social worlds, logged to SQLite."""

__version__ = "0.1.0"
