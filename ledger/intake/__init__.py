"""Spreadsheet imports: files read safely (`sheets`), the kinds of row and their columns
(`kinds`), the preview and the all-or-nothing import (`service`), the templates."""
