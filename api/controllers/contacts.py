"""The one place for a household's personal contact details (admins, officers in scope)."""

from __future__ import annotations

from litestar import Controller, Response, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.auth import policy
from api.schemas.access import Contact, ContactPut
from api.scopes import ensure_found_in_scope
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal
from ledger.core.errors import not_found, reject_if
from ledger.people import contacts
from ledger.store.database import Database

CONTACT_NOT_FOUND = not_found("contact_not_found", "No contact details for this case.")


class ContactController(Controller):
    path = "/api/contacts"
    tags = ["contacts"]

    @get(
        "/{case_code:str}",
        sync_to_thread=True,
        summary="A household's contact details",
        opt=policy(Action.CONTACTS_READ),
    )
    def get_contact(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case_code: FromPath[str],
    ) -> Contact:
        with db.read() as conn:
            province = contacts.province_of(conn, case_code)
            ensure_found_in_scope(principal, Action.CONTACTS_READ, province, CONTACT_NOT_FOUND)
            return Contact.of(contacts.get_contact(conn, case_code))

    @put(
        "/{case_code:str}",
        status_code=HTTP_200_OK,
        summary="Create or replace a household's contact details",
        opt=policy(Action.CONTACTS_WRITE),
    )
    async def put_contact(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        case_code: FromPath[str],
        data: JSONBody[ContactPut],
    ) -> Response[Contact]:
        def work(conn: Connection) -> Contact:
            reject_if([error for error in [contacts.validate_case_code(case_code)] if error])
            # The household's province, not the body's: the body could name any province.
            province = contacts.household_province(conn, case_code)
            ensure_found_in_scope(
                principal, Action.CONTACTS_WRITE, province, contacts.HOUSEHOLD_NOT_FOUND
            )
            return Contact.of(
                contacts.put_contact(
                    conn,
                    case_code,
                    data.province,
                    data.name,
                    data.phone,
                    data.address,
                    principal.username,
                )
            )

        # Never idempotency-keyed: a stored response would copy personal data elsewhere.
        return await writer.write("contact.put", work, status_code=HTTP_200_OK, idempotent=False)
