"""What a handler is given, named once for every controller: the request's database, caller
and audited writer (dependencies injected by name, `api.app.request_dependencies`). A request
body's example comes from `api.schemas.example`.

    async def put_contact(self, writer: Writer, case_code: FromPath[str],
                          data: Annotated[ContactPut, example("A household", EXAMPLE)]) -> ...
"""

from __future__ import annotations

from litestar.di import NamedDependency

from api.cursors import PageQuery
from api.writes import AuditedWriter
from ledger.access.policy import Principal
from ledger.store.database import Database

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Writer = NamedDependency[AuditedWriter]
Page = NamedDependency[PageQuery]  # `cursor` and `limit` of a list (`api.cursors.page_query`)
