"""Log shapes: what library wrote a file, told from its first lines, and how to read it.

Every file generation gets a shape when its first lines are read (see :func:`detect`); the shape
picks the function that turns each line into a :class:`~agenttui.ingest.records.Record`.
structlog and plain JSON use :func:`agenttui.ingest.records.normalise` unchanged (the hot path);
every other shape first rewrites the decoded object into the same field names and then
normalises that. One module per family:

* :mod:`.base`: the :class:`Shape` record, structlog and plain JSON;
* :mod:`.python`: loguru ``serialize=True``, python-json-logger (``asctime`` zones, ``exc_info``);
* :mod:`.node`: pino (numeric or label levels, ms or ISO times), pino-http, bunyan;
* :mod:`.journald`: ``journalctl -o json`` (native fields or a JSON ``MESSAGE``);
* :mod:`.logfmt`: ``key=value`` lines (structlog ``KeyValueRenderer`` / ``LogfmtRenderer``);
* :mod:`.otlp`, :mod:`.otlp_spans` and :mod:`.otlp_llm`: OTLP JSON export batches (many
  records per line), LLM calls in GenAI and OpenInference spans and GenAI events;
* :mod:`.containers`: Docker json-file and CRI logs, unwrapped to their inner shape;
* :mod:`.mapping`: ``[mapping]`` in ``agenttui.toml``, laid over the detected shape;
* :mod:`.objects` and :mod:`.detect`: telling the shape, and every shape by name.
"""

from agenttui.ingest.shapes.base import JSON, STRUCTLOG, Decoded, Shape, line_start
from agenttui.ingest.shapes.detect import (
    DETECT_BYTES,
    DETECT_LINES,
    NAMES,
    SHAPES,
    Verdict,
    detect,
    get,
    head_lines,
)
from agenttui.ingest.shapes.logfmt import parse_logfmt
from agenttui.ingest.shapes.mapping import MappingError, check_mapping, load_mapping
from agenttui.ingest.shapes.objects import detect_object
from agenttui.ingest.shapes.otlp_values import any_value, attributes

__all__ = [
    "DETECT_BYTES",
    "DETECT_LINES",
    "JSON",
    "NAMES",
    "SHAPES",
    "STRUCTLOG",
    "Decoded",
    "MappingError",
    "Shape",
    "Verdict",
    "any_value",
    "attributes",
    "check_mapping",
    "detect",
    "detect_object",
    "get",
    "head_lines",
    "line_start",
    "load_mapping",
    "parse_logfmt",
]
