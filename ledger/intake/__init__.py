"""Spreadsheet imports: files read safely (`sheets`), what each kind of row is (`kinds`), the preview and the all-or-nothing import (`service`), the templates (`templates`)."""
