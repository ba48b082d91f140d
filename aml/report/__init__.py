"""`aml report`: one self-contained HTML report over a period of the curated zone (issue 27).

page.py: the one section interface (Section, Table) and the page, plotly charts with plotly.js
inlined; sections.py: the sections every report shows, built from small frames; data.py: those
frames, read through the query layer on either engine, and the run manifests beside the tables.
"""
