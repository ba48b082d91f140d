"""The section interface and the HTML page.

A report is a title and a list of `Section`s; a section is a title, a short introduction and parts:
paragraphs (str), `Table`s and plotly figures. Whatever adds to a report (`aml report`, the demo,
later `aml evaluate`) builds Sections and hands them to `render`. The page is one file that opens
offline: plotly.js is inlined once in the head (the library `include_plotlyjs=True` would inline,
https://plotly.com/python/interactive-html-export/), each figure is a div and a call to
Plotly.newPlot, and there are no other scripts, fonts or links.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

STYLE = ("body{font-family:sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
         "td.n{text-align:right}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}"
         ".note{color:#555}")
FIGURE_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple, ...]


@dataclass(frozen=True)
class Section:
    title: str
    intro: str = ""
    parts: tuple[str | Table | go.Figure, ...] = field(default_factory=tuple)

    def figures(self) -> list[go.Figure]:
        return [p for p in self.parts if isinstance(p, go.Figure)]


def _cell(value) -> str:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    return f'<td class="n">{html.escape(text)}</td>' if numeric else f"<td>{html.escape(text)}</td>"


def table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _part(part, div_id: str) -> str:
    if isinstance(part, Table):
        return table_html(part)
    if isinstance(part, go.Figure):
        return part.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=FIGURE_CONFIG)
    return f"<p>{html.escape(part)}</p>"


def render(title: str, subtitle: str, sections: list[Section]) -> str:
    """The whole page as a string."""
    body = [f"<h1>{html.escape(title)}</h1>", f'<p class="note">{html.escape(subtitle)}</p>']
    for i, section in enumerate(sections):
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.intro:
            body.append(f'<p class="note">{html.escape(section.intro)}</p>')
        body += [_part(part, f"chart-{i}-{j}") for j, part in enumerate(section.parts)]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<style>{STYLE}</style><script type="text/javascript">{get_plotlyjs()}</script></head>'
            f"<body>{''.join(body)}</body></html>")


def write(path: Path, title: str, subtitle: str, sections: list[Section]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(title, subtitle, sections), encoding="utf-8")
    return path
