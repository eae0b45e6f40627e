"""What a handler is given, named once for every controller: the request's database, caller
and audited writer (dependencies injected by name, `api.app.request_dependencies`), and a
request body with the example /schema shows for it.

    async def put_contact(self, writer: Writer, case_code: FromPath[str],
                          data: Annotated[ContactPut, example("A household", EXAMPLE)]) -> ...
"""

from __future__ import annotations

from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, BodyKwarg

from api.writes import AuditedWriter
from ledger.access.policy import Principal
from ledger.store.database import Database

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Writer = NamedDependency[AuditedWriter]


def example(summary: str, value: object) -> BodyKwarg:
    """A request body documented with one example (it must be a request the API accepts)."""
    body: BodyKwarg = Body(examples=[Example(summary=summary, value=value)])
    return body
