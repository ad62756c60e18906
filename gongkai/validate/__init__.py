"""The validation engine: frictionless v5's error model, at the speed of a plain CSV loop.

Layers, one concept per module: ``fields`` (cast one cell), ``reader`` (bytes to CSV records),
``table`` (header, rows, keys of one resource), ``package`` (a dataset, foreign keys across
resources). ``validate_dataset`` is the entry point.
"""

from .package import DatasetResult, TaskResult, validate_dataset
from .table import TableValidator

__all__ = ["validate_dataset", "DatasetResult", "TaskResult", "TableValidator"]
