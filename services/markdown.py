"""User text inside text that is shown as Markdown.

Streamlit renders messages (st.error, st.warning), captions, subheaders and labels as Markdown.
A service message that names something a user typed (a provider's name) escapes it here, so it
shows exactly as typed: never as an image, a link, formatting, an icon or a formula. The pages'
`md()` is the same function.
"""

import re

# Every ASCII punctuation character. CommonMark lets a backslash make any of them literal, and
# Streamlit's own Markdown extras all start with one: `:material/…:` icons, `:red[…]` colours,
# `:smile:` emoji shortcodes, `$…$` LaTeX.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")


def markdown_literal(text: object) -> str:
    """`text` for a Markdown context, shown exactly as typed; line breaks become spaces."""
    if text is None:
        return ""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", _WHITESPACE.sub(" ", str(text)))
