"""A whole dataset: every resource validated once, foreign keys resolved across resources.

frictionless validates resources in descriptor order and, for every foreign key, reads the
referenced table again to build a look-up. Here a referenced resource is validated first and
hands over the key values it saw while being validated, so every file is read once (a
reference cycle costs one extra values-only read of one table). Tasks are still reported in
descriptor order, and the errors are the ones frictionless reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import PACKAGE_ERROR, Error
from ..model import Dataset, Resource
from .split import PartWriter
from .table import TableValidator

# The consumer of each resource's valid rows (a `split.RowStream` for a validated resource)
Sink = Callable[[Resource, Iterator[tuple]], None]

# Errors of a referenced resource that frictionless also reports on the resource referring
# to it: its look-up cannot be built when the referenced file cannot be opened.
PROPAGATED = ("scheme-error", "format-error", "encoding-error", "resource-error")

# Descriptor errors frictionless finds before reading any data: with one of them it validates
# no resource at all (Package.validate returns the metadata errors only).
METADATA = ("package-error", "resource-error", "schema-error", "field-error")


@dataclass
class TaskResult:
    """The validation of one resource."""

    resource: Resource
    errors: list[Error]
    labels: list[str]
    stats: dict  # rows, fields, bytes, sha256, seconds, labels

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass
class DatasetResult:
    """The validation of one dataset: dataset-level errors and one task per resource."""

    dataset: Dataset
    tasks: list[TaskResult]
    errors: list[Error] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors and all(task.valid for task in self.tasks)


def validate_dataset(
    dataset: Dataset,
    *,
    sink: Sink | None = None,
    part_writer: PartWriter | None = None,
    limit_errors: int = 1000,
) -> DatasetResult:
    """Validate every resource of the dataset; ``sink`` receives each resource's valid rows.

    ``sink(resource, rows)`` is called once per resource, in validation order, and must
    consume ``rows``; validating and loading are then a single pass over the file. ``rows`` is
    a ``split.RowStream``. With a ``part_writer`` (the sink's own), a big table's second half
    may be validated and written in parallel by a child process: the sink must then append
    each file in ``rows.parts`` after the rows it iterated (see ``split``).
    """
    resources = dataset.resources
    if any(error.type in METADATA for error in dataset.errors):
        return DatasetResult(
            dataset=dataset, tasks=[_not_validated(r, sink) for r in resources], errors=list(dataset.errors)
        )
    names = {r.name for r in resources}
    wanted = _wanted_references(resources, names)
    references: dict[tuple, set] = {}
    failures: dict[str, Error] = {}
    tasks: dict[int, TaskResult] = {}
    done: set[str] = set()

    for index in _order(resources, names):
        resource = resources[index]
        started = time.perf_counter()
        for dep, fields in _dependencies(resource, names):
            if dep not in done and (dep, fields) not in references:
                # a reference cycle: read the values of the resource referred to first
                values, error = _values_only(_resource(resources, dep), fields)
                references[(dep, fields)] = values
                if error is not None:
                    failures.setdefault(dep, error)
        propagated = [
            (dep, failures[dep]) for dep in sorted({d for d, _ in _dependencies(resource, names)}) if dep in failures
        ]
        if propagated:
            validator = None
            errors = [_propagate(resource, dep, error) for dep, error in propagated]
            labels: list[str] = []
            stats = _empty_stats(resource)
            _feed(sink, resource, iter(()))
        else:
            validator = TableValidator(
                resource,
                references=references,
                limit_errors=limit_errors,
                collect=sorted(wanted.get(resource.name, ())),
                personal_data=dataset.descriptor.get("gov:personalData"),
            )
            _feed(sink, resource, validator.stream(part_writer))
            errors, labels = validator.errors, validator.labels
            stats = dict(validator.stats)
            stats.setdefault("labels", list(labels))
            for fields in wanted.get(resource.name, ()):
                references[(resource.name, fields)] = validator.reference_values(fields)
            source_errors = [e for e in errors if e.type in PROPAGATED]
            if source_errors:
                failures[resource.name] = source_errors[0]
        stats["seconds"] = round(time.perf_counter() - started, 6)
        tasks[index] = TaskResult(resource=resource, errors=errors, labels=labels, stats=stats)
        done.add(resource.name)

    return DatasetResult(
        dataset=dataset,
        tasks=[tasks[i] for i in range(len(resources))],
        errors=list(dataset.errors),
    )


def _empty_stats(resource: Resource) -> dict[str, Any]:
    """The stats of a resource whose file was never read."""
    return {"rows": 0, "fields": len(resource.fields), "bytes": 0, "sha256": None, "labels": []}


def _not_validated(resource: Resource, sink: Sink | None) -> TaskResult:
    _feed(sink, resource, iter(()))
    stats = _empty_stats(resource)
    stats["seconds"] = 0.0
    stats["validated"] = False
    return TaskResult(resource=resource, errors=[], labels=[], stats=stats)


def _feed(sink: Sink | None, resource: Resource, rows: Iterator[tuple]) -> None:
    if sink is not None:
        sink(resource, rows)
    for _ in rows:  # whatever the sink left: errors are only complete once rows are exhausted
        pass


def _dependencies(resource: Resource, names: set[str]) -> list[tuple[str, tuple]]:
    """(resource name, reference fields) of the foreign keys to *other* existing resources."""
    out = []
    for fk in resource.foreign_keys:
        target = fk["resource"]
        if target and target != resource.name and target in names:
            out.append((target, tuple(fk["reference_fields"])))
    return out


def _wanted_references(resources: list[Resource], names: set[str]) -> dict[str, set[tuple]]:
    wanted: dict[str, set[tuple]] = {}
    for resource in resources:
        for dep, fields in _dependencies(resource, names):
            wanted.setdefault(dep, set()).add(fields)
    return wanted


def _order(resources: list[Resource], names: set[str]) -> list[int]:
    """Indexes in validation order: referenced resources first, otherwise descriptor order.

    In a cycle the first resource in descriptor order goes first (its references are then
    read beforehand by ``_values_only``).
    """
    deps = {i: {d for d, _ in _dependencies(r, names)} for i, r in enumerate(resources)}
    index_of: dict[str, int] = {}
    for i, r in enumerate(resources):
        index_of.setdefault(r.name, i)
    order: list[int] = []
    done: set[str] = set()
    pending = list(range(len(resources)))
    while pending:
        ready = next((i for i in pending if deps[i] <= done), pending[0])
        pending.remove(ready)
        order.append(ready)
        done.add(resources[ready].name)
    return order


def _resource(resources: list[Resource], name: str) -> Resource:
    return next(r for r in resources if r.name == name)


def _values_only(resource: Resource, fields: tuple) -> tuple[set[tuple], Error | None]:
    """The key values of ``fields`` over the whole table, as frictionless's look-up reads them
    (the referenced table's own foreign keys ignored, no error limit)."""
    schema = {k: v for k, v in resource.schema.items() if k != "foreignKeys"}
    # no row of it is published here: the guard runs when the resource itself is validated
    validator = TableValidator(replace(resource, schema=schema), limit_errors=0, collect=[fields], guard=False)
    for _ in validator.rows():
        pass
    failed = [e for e in validator.errors if e.type in PROPAGATED]
    return validator.reference_values(fields), (failed[0] if failed else None)


def _propagate(resource: Resource, dep: str, error: Error) -> Error:
    # the referenced resource's own error, retold on this one (its type kept)
    told = PACKAGE_ERROR("lookup-unreadable", resource=dep, note=error.note, note_zh=error.note_zh or error.note)
    return told.at(type=error.type, dataset=resource.dataset, resource=resource.name, file=resource.path)
