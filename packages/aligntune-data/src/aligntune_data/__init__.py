"""Dataset loading, chat templating and preprocessing for AlignTune.

``load_dataset`` turns datasets (local files, in-memory rows, Hub ids, ``builtin:`` generators) into a
canonical format -- ``sft``, ``preference`` or ``prompt`` -- with schema adapters detected from the
columns, bad rows counted and handled, several datasets mixed by weight and results cached.
"""

__version__ = "0.1.0"

from .adapters.tasks import gsm8k_final_answer
from .cache import DatasetCache
from .errors import DataError
from .formats import FORMATS, format_for_algorithm
from .generators.instructions import check_output as check_instruction_output
from .loader import load_dataset
from .messages import parse_hh_dialogue, split_hh_pair
from .registration import register_all
from .selection import mix_counts, parse_split
from .sources import register_in_memory

register_all()

__all__ = [
    "FORMATS",
    "DataError",
    "DatasetCache",
    "check_instruction_output",
    "format_for_algorithm",
    "gsm8k_final_answer",
    "load_dataset",
    "mix_counts",
    "parse_hh_dialogue",
    "parse_split",
    "register_in_memory",
    "split_hh_pair",
]
