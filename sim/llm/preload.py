"""Importing this module imports litellm as the LLM client does (offline cost map, quiet).

:mod:`sim.process_executor` has its ``forkserver`` preload it for tournaments with LLM seats, so
worker processes fork with litellm loaded instead of each paying its import on its first call.
"""

from sim.llm.client import _litellm

_litellm()
