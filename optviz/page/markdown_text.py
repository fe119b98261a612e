"""Text from a link or a visitor, shown in Streamlit Markdown as the text it is."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain_text(text: str) -> str:
    """``text`` as it is, inside Streamlit Markdown: every character Markdown (or its $math$)
    would read escaped."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def code_text(text: str) -> str:
    """``text`` for a Markdown code span (`...`), which escapes nothing: no backtick can end it."""
    return str(text).replace("`", "'")
