"""Limits on everything (TigerBeetle style). Units last in names."""

from __future__ import annotations

POSTINGS_PER_TRANSACTION_MIN = 2
POSTINGS_PER_TRANSACTION_MAX = 64
TAGS_PER_TRANSACTION_MAX = 16
LINKS_PER_TRANSACTION_MAX = 16
META_ENTRIES_PER_TRANSACTION_MAX = 32

NARRATION_LENGTH_MAX = 1_000
PAYEE_LENGTH_MAX = 200
META_VALUE_LENGTH_MAX = 1_000
META_KEY_LENGTH_MAX = 64
TAG_LENGTH_MAX = 64
ACCOUNT_NAME_LENGTH_MAX = 200
ACCOUNT_COMPONENTS_MAX = 10
BOOK_NAME_LENGTH_MAX = 200
COMMODITY_NAME_LENGTH_MAX = 100

# An amount's text, before it is parsed: keeps hostile 10_000-digit strings out of Decimal.
AMOUNT_TEXT_LENGTH_MAX = 40
# |units| of one posting, in the commodity's smallest unit (10^15 riel, 10^13 dollars).
POSTING_UNITS_ABS_MAX = 10**15
# |balance| of one account in one commodity: stays far inside a signed 64-bit integer.
BALANCE_UNITS_ABS_MAX = 10**18
# A per-unit price: significant digits, and its magnitude.
PRICE_DIGITS_MAX = 20
PRICE_ABS_MAX = 10**12

COMMODITY_PRECISION_MAX = 8

# Ids are INTEGER columns (4 bytes on PostgreSQL): an id or a cursor naming a larger one names
# nothing the database could hold, and PostgreSQL refuses to compare INTEGER with it.
ID_MAX = 2**31 - 1

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1_000
# One transactions.csv: a few years of a busy book, some tens of MB; more is a narrower query.
CSV_TRANSACTIONS_MAX = 100_000

# One disbursement's items in kind and its note: its receipt prints them all on one A4 page.
DISBURSEMENT_ITEMS_MAX = 20
DISBURSEMENT_NARRATION_LENGTH_MAX = 300

# An opaque page cursor's text (`next_cursor` of the previous page): a transaction's is ~30.
CURSOR_LENGTH_MAX = 100

# A savings group's cycle number is a SMALLINT column: a larger one names nothing it could hold.
CYCLE_NUMBER_MAX = 32_767

# Attachments (scans and photos of receipts, invoices, statements): one file at most 10 MB,
# its name as shown at most 200 characters.
ATTACHMENT_BYTES_MAX = 10 * 1024 * 1024
ATTACHMENT_NAME_LENGTH_MAX = 200
# Attachments listed for one record, at most.
ATTACHMENTS_PER_RECORD_MAX = 100
# Spreadsheet imports (ledger/intake): the file as uploaded, what its zip may unpack to (an
# XLSX is a zip: a small file can unpack to gigabytes), the rows and cells read from it.
IMPORT_FILE_BYTES_MAX = 4 * 1024 * 1024
IMPORT_UNPACKED_BYTES_MAX = 40 * 1024 * 1024
IMPORT_COMPRESSION_RATIO_MAX = 100
IMPORT_ZIP_ENTRIES_MAX = 100
IMPORT_ROWS_MAX = 5_000
IMPORT_COLUMNS_MAX = 40
IMPORT_CELL_LENGTH_MAX = 1_000
IMPORT_FILE_NAME_LENGTH_MAX = 200

# People recorded under one case code (household members with sex, birth year or age band,
# role): a household's size, generously; the spreadsheet import refuses more too.
HOUSEHOLD_MEMBERS_MAX = 50
# The earliest birth year a person may be recorded with; later than this year is refused.
BIRTH_YEAR_MIN = 1900
