"""The one place for a household's personal contact details (admins, officers in scope)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.injected import Caller, Db, Writer
from api.routes import reads, replaces
from api.schemas import example
from api.schemas.access import Contact, ContactPut
from api.schemas.people import EXAMPLE_CONTACT
from api.scopes import ensure_found_in_scope
from ledger.access.policy import Action
from ledger.core.errors import not_found, reject_if
from ledger.people import contacts

CONTACT_NOT_FOUND = not_found("contact_not_found", "No contact details for this case.")


class ContactController(Controller):
    path = "/api/contacts"
    tags = ["contacts"]

    @reads("/{case_code:str}", "A household's contact details", Action.CONTACTS_READ)
    def get_contact(self, db: Db, principal: Caller, case_code: FromPath[str]) -> Contact:
        """The name, phone and address kept for the household (the only place personal
        details live; households and ledgers carry case codes only), and when they were last
        changed. 404 contact_not_found: none recorded, no such household, or one outside your
        provinces."""
        with db.read() as conn:
            province = contacts.province_of(conn, case_code)
            ensure_found_in_scope(principal, Action.CONTACTS_READ, province, CONTACT_NOT_FOUND)
            return Contact.of(contacts.get_contact(conn, case_code))

    @replaces(
        "/{case_code:str}", "Create or replace a household's contact details", Action.CONTACTS_WRITE
    )
    async def put_contact(
        self,
        writer: Writer,
        case_code: FromPath[str],
        data: Annotated[ContactPut, example("A household in Bavet", EXAMPLE_CONTACT)],
    ) -> Response[Contact]:
        """Stores the household's name, phone and address (nothing is posted to a book).
        `province` must be the household's (422 contact_province_mismatch). Refused: 422
        name_invalid, phone_invalid, province_invalid, case_code_invalid; 404
        household_not_found (also outside your provinces). Never replayed by
        Idempotency-Key: personal data is not copied to the key store."""
        principal = writer.principal

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
