"""Text from a link or a visitor, shown in Streamlit Markdown as the text it is."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
# C0 and C1 controls (DEL too) and Unicode's line and paragraph separators: a line break
# ends a code span or a paragraph, and the next line could start a heading, a link or an image.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match) -> str:
    char = match.group()
    return _NAMED_CONTROLS.get(char) or f"\\u{ord(char):04x}"


def one_line(text: str) -> str:
    """``text`` with each control character written out as an escape (``\\n``, ``\\u2028``)."""
    return _CONTROL.sub(_visible, str(text))


def plain_text(text: str) -> str:
    """``text`` as it is, inside Streamlit Markdown: every character Markdown (or its $math$)
    would read escaped, and on one line."""
    return _MARKDOWN.sub(r"\\\1", one_line(text))


def code_text(text: str) -> str:
    """``text`` for a Markdown code span (`...`), which escapes nothing: no backtick and no
    line break can end it."""
    return one_line(text).replace("`", "'")
