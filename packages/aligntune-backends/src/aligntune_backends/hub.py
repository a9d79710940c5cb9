"""Pushing a saved model folder to the Hugging Face Hub (real huggingface_hub calls)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aligntune_config import UnifiedConfig


def push_folder(config: "UnifiedConfig", folder: str, repo_id: str | None = None, *, token: str | None = None,
                private: bool = False) -> str:
    """Create ``repo_id`` (default ``logging.hub_model_id``) if needed and upload ``folder``; the token
    comes from the argument, ``logging.hub_token`` or the environment (HF_TOKEN)."""
    from huggingface_hub import HfApi

    repo_id = repo_id or config.logging.hub_model_id
    if not repo_id:
        raise ValueError("push_to_hub needs a repo_id (or logging.hub_model_id)")
    secret = config.logging.hub_token
    token = token or (secret.get_secret_value() if secret else None)
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private or config.logging.hub_private_repo, exist_ok=True)
    api.upload_folder(folder_path=folder, repo_id=repo_id, commit_message="AlignTune model")
    return f"https://huggingface.co/{repo_id}"
