"""Offsets inside condition strings map back to the file, whatever the YAML scalar style."""

from __future__ import annotations

import pytest
import yaml

from tercel.engine.rules.model import CondPos
from tercel.engine.rules.positions import line_col, scalar_offset

DOCS = {
    "plain": "- macro: m\n  condition: evt.type = open and BAD = 1\n",
    "plain_multiline": "- macro: m\n  condition: evt.type = open and\n    proc.name = x and\n    BAD = 1\n",
    "single_quoted": "- macro: m\n  condition: 'fd.name = ''a b'' and BAD = 1'\n",
    "double_quoted": '- macro: m\n  condition: "fd.name = \\"a\\tb\\" and BAD = 1"\n',
    "folded": "- macro: m\n  condition: >\n    evt.type = open and\n    proc.name = x and BAD = 1\n",
    "literal": "- macro: m\n  condition: |\n    evt.type = open and\n      (proc.name = x) and\n    BAD = 1\n",
}


def _scalar(text: str) -> tuple[CondPos, str]:
    root = yaml.compose(text)
    node = root.value[0].value[1][1]
    return CondPos("f.yaml", text, node.start_mark.index, node.end_mark.index, node.style or None), \
        yaml.safe_load(text)[0]["condition"]


@pytest.mark.parametrize("style", sorted(DOCS))
def test_offset_maps_to_the_file(style: str) -> None:
    text = DOCS[style]
    pos, value = _scalar(text)
    k = value.index("BAD")
    file, content, off = scalar_offset(pos, value, k)
    assert file == "f.yaml" and content is text
    assert text[off:off + 3] == "BAD", (style, text[off:off + 10])
    line, col = line_col(text, off)
    assert text.splitlines()[line][col:col + 3] == "BAD"


def test_appended_part_maps_to_its_own_file():
    first = "- macro: m\n  condition: evt.type = open\n"
    second = "- macro: m\n  condition: or BAD = 1\n  override:\n    condition: append\n"
    p1, v1 = _scalar(first)
    p2, v2 = _scalar(second)
    p2 = CondPos("g.yaml", second, p2.start, p2.end, p2.style)
    p1.parts.append((len(v1) + 1, p2))
    joined = v1 + " " + v2
    file, content, off = scalar_offset(p1, joined, joined.index("BAD"))
    assert file == "g.yaml" and content[off:off + 3] == "BAD"
    file, content, off = scalar_offset(p1, joined, joined.index("open"))
    assert file == "f.yaml" and content[off:off + 4] == "open"
