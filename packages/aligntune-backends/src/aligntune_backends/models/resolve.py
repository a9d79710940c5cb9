"""Where a ``model.name_or_path`` points: an embedded model, a local folder, a local GGUF file, a GGUF
inside a folder or Hub repo, or a Hub id. Decided (and local paths checked) before anything is loaded."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from .embedded import embedded_name, resolve_embedded
from .errors import ModelLoadError
from .gguf import resolve_gguf

logger = logging.getLogger("aligntune.models.resolve")

FIELD = "model.name_or_path"
# A Hub repo id: "name" or "owner/name" (letters, digits, "-", "_", "."; no "--" or ".." rules checked here).
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
EXPECTED = ("a folder written by save_pretrained (with config.json), a .gguf file, an embedded model "
            "(embedded:smollm2-135m-instruct, embedded:tiny-random) or a Hugging Face Hub id (owner/name)")


@dataclass(frozen=True)
class ModelLocation:
    """What to pass to ``from_pretrained``: ``path`` (a local folder or a Hub id), and for a GGUF that is
    loaded in place (one on the Hub), ``gguf_file``. ``kind`` is embedded, local, gguf or hub."""

    kind: str
    path: str
    gguf_file: str | None = None

    @property
    def is_hub(self) -> bool:
        return self.kind == "hub"


def looks_like_path(name: str) -> bool:
    """Whether ``name`` is written as a filesystem path rather than a Hub id."""
    return (name.startswith(("/", "./", "../", "~", ".\\")) or "\\" in name or name.count("/") > 1
            or name.lower().endswith(".gguf") or not HUB_ID.match(name))


def _check_local_folder(folder: Path, field: str) -> None:
    if (folder / "config.json").is_file():
        return
    ggufs = sorted(p.name for p in folder.glob("*.gguf"))
    if ggufs:
        raise ModelLoadError(field, f"{str(folder)!r} has no config.json but holds GGUF files {ggufs}; set "
                                    "model.gguf_file to one of them, or point name_or_path at the .gguf file")
    if (folder / "adapter_config.json").is_file():
        raise ModelLoadError(field, f"{str(folder)!r} holds a PEFT adapter only (adapter_config.json); point "
                                    "name_or_path at a merged model folder or at the base model")
    raise ModelLoadError(field, f"{str(folder)!r} is a folder without config.json; expected {EXPECTED}")


def locate_model(name_or_path: str, gguf_file: str | None = None, *, field: str = FIELD) -> ModelLocation:
    """Resolve ``name_or_path`` (and ``gguf_file``) to a :class:`ModelLocation`.

    Embedded models and local GGUF files are built/converted into the model cache here (once); local
    paths that do not exist raise :class:`ModelLoadError` naming ``field``. Hub ids are not contacted.
    """
    name = name_or_path.strip()
    if embedded_name(name) is not None:
        if gguf_file:
            raise ModelLoadError("model.gguf_file", f"does not apply to the embedded model {name!r}; remove it")
        try:
            return ModelLocation("embedded", str(resolve_embedded(name)))
        except ValueError as exc:
            raise ModelLoadError(field, str(exc).removeprefix(f"{FIELD}: ")) from exc

    path = Path(name).expanduser()
    if gguf_file and not name.lower().endswith(".gguf"):
        if path.is_dir():
            target = path / gguf_file
            if not target.is_file():
                present = sorted(p.name for p in path.glob("*.gguf")) or "none"
                raise ModelLoadError("model.gguf_file", f"{gguf_file!r} is not a file in {str(path)!r}; "
                                                        f"GGUF files there: {present}")
            return ModelLocation("gguf", str(resolve_gguf(target)))
        if looks_like_path(name):
            raise ModelLoadError(field, f"local folder {name!r} (holding model.gguf_file {gguf_file!r}) "
                                        "does not exist")
        return ModelLocation("hub", name, gguf_file=gguf_file)

    if name.lower().endswith(".gguf"):
        if not path.is_file():
            raise ModelLoadError(field, f"GGUF file {name!r} does not exist; expected an existing .gguf file")
        return ModelLocation("gguf", str(resolve_gguf(path)))
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(field, f"{name!r} is a file, not a model folder; expected {EXPECTED}")
        _check_local_folder(path, field)
        return ModelLocation("local", str(path))
    if looks_like_path(name):
        raise ModelLoadError(field, f"local path {name!r} does not exist; expected {EXPECTED}")
    return ModelLocation("hub", name)
