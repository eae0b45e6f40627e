"""WeasyPrint's log never carries the document's text.

WeasyPrint formats values from the document into its log records: a glyph no font has
(".notdef glyph rendered for Unicode string unsupported by fonts: "…""), an attribute, a
URL. A receipt's narration or a member's name would reach the server log that way. The
filter installed here keeps each record (its level and what happened) and drops its values:
the message is WeasyPrint's template with `…` where a value was.
"""

from __future__ import annotations

import logging
import re

WEASYPRINT_LOGGERS = ("weasyprint", "weasyprint.progress")
_PLACEHOLDER_RE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z%]")


def redact_template(template: str) -> str:
    """`template` with every %-placeholder replaced by `…` (a literal `%%` stays `%`)."""
    return _PLACEHOLDER_RE.sub(lambda m: "%" if m.group(0) == "%%" else "…", template)


class WithoutValues(logging.Filter):
    """Keeps a record, without the values formatted into it."""

    def filter(self, record: logging.LogRecord) -> bool:
        template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        record.msg = f"weasyprint: {redact_template(template)}"
        record.args = None
        record.exc_info = None  # an exception's message can quote the document too
        record.exc_text = None
        return True


def quiet_weasyprint_logs() -> None:
    """Install `WithoutValues` on WeasyPrint's loggers (once; safe to call again)."""
    for name in WEASYPRINT_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithoutValues) for f in logger.filters):
            logger.addFilter(WithoutValues())
