"""LLM agents: one agent for every world, prompt templates as files, parsing in one module."""
