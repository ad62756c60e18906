"""The validator and the parallel split meet through a public interface (gongkai/validate/split.py:
`Plan`, `RowStream`, `PartWriter`; gongkai/validate/keys.py): no module reads the validator's
private state, and the split does not import the validator back."""

import ast
from pathlib import Path

from gongkai import load
from gongkai.validate import split, table

PACKAGE = Path(table.__file__).resolve().parents[1]
TABLE = Path(table.__file__).resolve()


def _private_names_of_the_validator() -> set[str]:
    tree = ast.parse(TABLE.read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TableValidator")
    names = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("_") and not node.name.startswith("__"):
            names.add(node.name)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            if node.attr.startswith("_") and not node.attr.startswith("__"):
                names.add(node.attr)
    return names


def test_no_module_reads_the_validators_private_state():
    private = _private_names_of_the_validator()
    assert {"_data", "_body", "_layout", "_content", "_slow", "_pk_seen", "_collect", "_fmt", "_options"} <= private
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.resolve() == TABLE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in private:
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}")
    assert not found


def test_the_split_does_not_import_the_validator():
    tree = ast.parse(Path(split.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not {name for name in imported if name == "table" or name.endswith(".table")}


def test_the_row_stream_knows_nothing_of_sqlite():
    source = Path(split.__file__).read_text(encoding="utf-8").lower()
    assert "sqlite" not in source and ".db" not in source
    # the loader implements the part writer the validate side declares (checked by mypy too)
    writer: split.PartWriter = load.write_part
    assert callable(writer)
