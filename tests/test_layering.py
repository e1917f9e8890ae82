"""The layers stay visible: no module imports from a higher layer."""

import ast
from pathlib import Path

LAYERS = ["driver", "capture", "state", "fields", "engine", "outputs", "app"]
SRC = Path(__file__).resolve().parents[1] / "src" / "tercel"


def _imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "tercel" and len(parts) > 1 and parts[1] in LAYERS:
                found.add(parts[1])
    return found


def test_no_layer_imports_a_higher_one():
    violations = []
    for layer in LAYERS:
        rank = LAYERS.index(layer)
        for path in sorted((SRC / layer).rglob("*.py")):
            for used in _imported_layers(path):
                if LAYERS.index(used) > rank:
                    violations.append(f"{path.relative_to(SRC)} imports tercel.{used}")
    assert violations == []


def test_every_layer_exists():
    for layer in LAYERS:
        assert (SRC / layer / "__init__.py").is_file(), layer
