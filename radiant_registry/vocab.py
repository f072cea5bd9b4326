"""The closed sets of values the files use, apart from the schema: the read commands
check a --category against them without importing pydantic."""

from typing import Literal

ModelType = Literal["chat", "embedding", "image", "audio", "realtime"]
Category = Literal["flagship", "balanced", "economy", "specialized", "novel", "general"]
AuthType = Literal["api_key", "iam", "service_account"]
Status = Literal["active", "preview", "deprecated"]
Modality = Literal["text", "image", "audio", "video", "pdf", "embedding"]
