"""MkDocs hooks: insert the value-range table generated from the code, and drop the Sphinx roles
(``:func:``, ``:class:`` ...) that docstrings use before a code span, so the API reference shows
just the name."""

import re

_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj):(<code>)~?")


def on_page_content(html: str, **_kwargs) -> str:
    return _ROLE.sub(r"\1", html)


def on_page_markdown(markdown: str, **_kwargs) -> str:
    if "<!-- ranges-table -->" not in markdown:
        return markdown
    from greenopt.files import ranges_markdown

    return markdown.replace("<!-- ranges-table -->", ranges_markdown())
