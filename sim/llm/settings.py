"""How one seat talks to a model: any litellm model string plus call parameters (no secrets)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.llm.structured import StructuredMode

CacheMode = Literal["off", "use", "replay"]
ClientPath = Literal["auto", "direct", "litellm"]
AnswerRoute = Literal["auto", "chat", "prefill", "completion"]
#: What ``api_key_env`` must look like: an upper-case environment variable name (``OPENAI_API_KEY``).
#: API keys have lower-case letters or dashes, so a key pasted here by mistake is refused.
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")


class ModelSettings(BaseModel):
    """A model and how to call it. API keys come from the environment only (``api_key_env``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1, description="any litellm model string: openai/..., ollama_chat/..., ...")
    api_base: str | None = Field(None, description="server URL for local or self-hosted models")
    api_key_env: str | None = Field(None, description="name of the environment variable holding the API key")
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int | None = Field(256, ge=1)
    seed: int | None = Field(
        None, description="sent to providers that support it; also part of the cache key"
    )
    timeout: float = Field(60.0, gt=0, description="seconds per request (litellm's own default is 6000)")
    max_parallel: int = Field(8, ge=1, description="requests in flight per model; more callers queue")
    rpm: int | None = Field(None, ge=1, description="requests per minute per model (None = unlimited)")
    retries: int = Field(
        4, ge=0, le=20, description="retries on rate limits, timeouts, connection and 5xx errors"
    )
    backoff: float = Field(0.5, ge=0, description="base seconds of the jittered exponential backoff")
    reasks: int = Field(
        2, ge=0, le=10, description="re-asks after an answer that does not parse or is illegal"
    )
    structured: StructuredMode = Field(
        "auto",
        description="how the answer schema is sent: auto, json_schema, json_object_schema, guided_json, "
        "json_object or prompt (true = auto, false = prompt); answers are always validated here",
    )
    answer_route: AnswerRoute = Field(
        "auto",
        description="completion-style (label) prompts: chat, prefill (the answer's start as a trailing "
        "assistant message), completion (the text-completion route) or auto (picked from the provider)",
    )
    stop: tuple[str, ...] | None = Field(
        None, description="stop sequences (prefill and completion routes default to a newline)"
    )
    cache: CacheMode = Field("use", description="off, use (read and write), replay (read only, no network)")
    extra: dict[str, Any] = Field(default_factory=dict, description="more litellm arguments (no secrets)")
    client: ClientPath = Field(
        "auto",
        description="how requests are sent: direct (our lean HTTP client, for OpenAI-compatible servers: "
        "openai/ models with an api_base), litellm, or auto (direct where it applies, else litellm); "
        "the request, the answer and the stored rows are the same either way",
    )

    @field_validator("api_key_env", mode="before")
    @classmethod
    def _env_name(cls, value: Any) -> Any:
        # The message never shows the value: it may be the key itself, pasted instead of a name.
        if value is not None and not (isinstance(value, str) and ENV_NAME.match(value)):
            raise ValueError(
                "must name an environment variable (upper-case letters, digits and _, "
                "e.g. OPENAI_API_KEY), not hold the key itself"
            )
        return value

    @field_validator("structured", mode="before")
    @classmethod
    def _structured_bool(cls, value: Any) -> Any:
        # the boolean of earlier scenarios: true sends the schema as the provider allows, false never
        if isinstance(value, bool):
            return "auto" if value else "prompt"
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_inline_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("api_key", "key", "token"):
                if key in data or key in (data.get("extra") or {}):
                    raise ValueError(
                        f"'{key}' is not allowed: API keys come from the environment; "
                        "name the variable with 'api_key_env'"
                    )
        return data

    @model_validator(mode="after")
    def _route_exists(self) -> ModelSettings:
        from sim.llm.routes import completion_model

        if self.answer_route == "completion" and completion_model(self.model) is None:
            raise ValueError(
                f"answer_route completion needs a text-completion model (text-completion-openai/..., "
                f"or openai/... or hosted_vllm/... served with /v1/completions), not {self.model!r}"
            )
        return self

    @model_validator(mode="after")
    def _direct_applies(self) -> ModelSettings:
        if self.client == "direct":
            from sim.llm.direct import eligible

            reason = eligible(self.model, self.api_base, self.extra)
            if reason is not None:
                raise ValueError(reason)
        return self

    def call_params(self) -> dict[str, Any]:
        """The non-secret parameters that shape the answer (stored with each call and in the cache key)."""
        params: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.seed is not None:
            params["seed"] = self.seed
        if self.stop is not None:
            params["stop"] = list(self.stop)
        params.update(self.extra)
        return params
