"""LLM calls: one async ask() over litellm, a response cache, and an offline test server."""
