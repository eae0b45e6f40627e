"""The OpenAPI document as the server behaves, completed once from the route table.

Litestar writes each operation from its handler's signature and return type. What the
handlers share is added here, in one place, from what each route declares (its `opt`
policy, its body, its path): the problem+json answers it can give (one `Problem` schema),
its security (`security: []` for the public ones), who may call it, and the bounds the
request middleware enforces on every path and query parameter. A route added tomorrow gets
the same without anyone editing its decorator.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from api.content_type import reads_json
from api.errors import PROBLEM_MEDIA_TYPE, Problem
from ledger.access.policy import POLICY, Action
from ledger.core import limits
from ledger.core.account import ACCOUNT_NAME_PATTERN
from ledger.core.amount import COMMODITY_CODE_RE
from ledger.core.book import BOOK_CODE_RE
from ledger.savings.rules.accounts import MEMBER_NUMBER_RE

# (method, path) of the routes that count wrong guesses and answer 429 when there are many.
RATE_LIMITED = frozenset({("POST", "/api/auth/login"), ("POST", "/api/auth/password")})
# What the request middleware refuses in any path or query text (`api/requests.py`).
PARAMETER_TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
ERROR_DESCRIPTIONS = {
    400: "Bad request: a JSON body nested too deeply, or a body that cannot be parsed.",
    401: "Not signed in: no bearer token, or one that is expired, revoked or unknown.",
    403: "Forbidden: your role may never do this, or a rule refuses it to you "
    "(maker-checker, a province outside your scope).",
    404: "Not found: it does not exist, or it is outside your scopes (the same answer).",
    409: "Conflict: the request is valid but the books' state refuses it (a budget line "
    "exceeded, a closed period, an Idempotency-Key reused with another body).",
    413: f"Request body larger than {1024 * 1024} bytes "
    f"(an attachment: larger than {limits.ATTACHMENT_BYTES_MAX} bytes).",
    415: "The body is not JSON: send Content-Type: application/json (an attachment: the "
    "file is not a JPEG, PNG or PDF by its content).",
    422: "Invalid request: a field, a parameter or a rule of the domain refuses it; `errors` "
    "lists every problem found, each with its `code` and `field`.",
    429: "Too many attempts: wait, then try again.",
}
REACH_WORDS = {"all": "everywhere", "scope": "within their scopes", "own": "for themselves"}
_SCHEMA_PREFIX = "#/components/schemas/"
_COMMODITY = f"^{COMMODITY_CODE_RE.pattern}$"
_LINE = "[^\\u0000-\\u001f\\u007f-\\u009f]"  # a character of one-line text
# What the ledger's own rules require of these request fields, from the very expressions
# they check with (a field msgspec cannot check keeps its domain error code, e.g.
# `account_name_invalid`, so the rule lives in the ledger and is published here).
FIELD_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("AccountCreate", "name"): {"pattern": ACCOUNT_NAME_PATTERN},
    ("AccountCreate", "currencies"): {"items": {"type": "string", "pattern": _COMMODITY}},
    ("PostingCreate", "account"): {"pattern": ACCOUNT_NAME_PATTERN},
    ("PostingCreate", "currency"): {"pattern": _COMMODITY},
    ("PriceIn", "currency"): {"pattern": _COMMODITY},
    ("TransactionCreate", "postings"): {"minItems": limits.POSTINGS_PER_TRANSACTION_MIN},
    ("CommodityCreate", "code"): {"pattern": _COMMODITY},
    ("BookCreate", "code"): {"pattern": f"^{BOOK_CODE_RE.pattern}$"},
    ("BookCreate", "operating_currency"): {"pattern": _COMMODITY},
    ("BookCreate", "name"): {"pattern": f"^{_LINE}*[^\\s\\u0000-\\u001f\\u007f-\\u009f]{_LINE}*$"},
    ("MemberCreate", "number"): {"pattern": f"^{MEMBER_NUMBER_RE.pattern}$"},
    ("BudgetLineCreate", "expense_account"): {"pattern": ACCOUNT_NAME_PATTERN},
    ("AwardCreate", "income_account"): {"pattern": ACCOUNT_NAME_PATTERN},
    ("AwardCreate", "currency"): {"pattern": _COMMODITY},
    ("FundReceiptCreate", "bank_account"): {"pattern": ACCOUNT_NAME_PATTERN},
    ("BudgetExpenseCreate", "paid_from"): {"pattern": ACCOUNT_NAME_PATTERN},
}
# The body of an upload route: the file's bytes, whatever Content-Type is sent (the type is
# read from the content).
UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "description": "The file's bytes: a JPEG or PNG photo or a PDF scan, at most "
    f"{limits.ATTACHMENT_BYTES_MAX} bytes.",
    "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}
SCHEMA_PAGES_PREFIX = "/schema/"
SCHEMA_DOCUMENT_PATH = "/schema/openapi.json"


@dataclass(frozen=True, slots=True)
class OperationFacts:
    """What a route declares that the document should say."""

    public: bool
    action: Action | None
    has_body: bool
    reads_json: bool
    has_path_parameters: bool
    writes: bool
    rate_limited: bool
    description: str | None
    uploads: bool = False  # the body is a file (`opt={"upload": True}`), read as bytes
    body_optional: bool = False  # `data` has a default: a request may send no body


def operation_facts(app: Litestar) -> dict[tuple[str, str], OperationFacts]:
    """Facts for every (method, path) of the app's HTTP routes, paths as the document has them."""
    found: dict[tuple[str, str], OperationFacts] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            action = handler.opt.get("action")
            data = handler.parsed_fn_signature.parameters.get("data")
            for method in handler.http_methods:
                found[(method, route.path_format)] = OperationFacts(
                    public=bool(handler.opt.get("public")),
                    action=action if isinstance(action, Action) else None,
                    has_body="data" in handler.parsed_fn_signature.parameters,
                    reads_json=reads_json(handler),
                    has_path_parameters=bool(route.path_parameters),
                    writes=method != "GET",
                    rate_limited=(method, route.path_format) in RATE_LIMITED,
                    description=handler.description,
                    uploads=bool(handler.opt.get("upload")),
                    body_optional=data is not None and data.has_default,
                )
    return found


def error_statuses(facts: OperationFacts, takes_input: bool) -> tuple[int, ...]:
    """The problem+json statuses an operation can answer (`takes_input`: it has parameters or
    a body, so something it names may not exist, may conflict with the books, may be
    invalid)."""
    statuses: set[int] = set()
    if takes_input:
        statuses.add(422)
    if facts.has_body:
        statuses |= {400, 413}
    if facts.reads_json or facts.uploads:
        statuses.add(415)
    if facts.uploads:
        statuses |= {400, 413}
    if not facts.public:
        statuses |= {401, 403}
        if takes_input:
            statuses |= {404, 409}
    if facts.rate_limited:
        statuses |= {401, 429}
    return tuple(sorted(statuses))


def who_may(action: Action) -> str:
    """The roles the policy allows `action`, in words."""
    reaches = POLICY.get(action, {})
    if not reaches:
        return "No role may call this."
    roles = ", ".join(f"{role} ({REACH_WORDS[reach]})" for role, reach in reaches.items())
    return f"Who may: {roles}; permission `{action.value}`."


def describe(operation: Mapping[str, Any], facts: OperationFacts) -> str:
    """The operation's description: its own words, then who may call it."""
    own = facts.description or operation.get("description") or f"{operation['summary']}."
    if facts.public:
        return f"{own}\n\nPublic: no sign-in needed."
    if facts.action is None:
        return own
    return f"{own}\n\n{who_may(facts.action)}"


def problem_components() -> dict[str, Any]:
    """JSON schemas of `Problem` and `ProblemError`, as `api/errors.py` emits them."""
    _, components = msgspec.json.schema_components(
        (Problem,), ref_template=_SCHEMA_PREFIX + "{name}"
    )
    return components


def error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"{_SCHEMA_PREFIX}Problem"}}},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {
                "description": 'Bearer realm="livelihood-ledger"',
                "schema": {"type": "string"},
            }
        }
    return response


def bound_parameter(parameter: dict[str, Any]) -> None:
    """Say in the document what `api/requests.py` refuses in every path and query value."""
    if parameter.get("in") not in ("path", "query"):
        return
    schema = parameter.get("schema")
    if not isinstance(schema, dict):
        return
    variants = schema.get("oneOf") or schema.get("anyOf") or [schema]
    for variant in variants:
        if variant.get("type") == "string" and "format" not in variant:
            variant.setdefault("pattern", PARAMETER_TEXT_PATTERN)
        elif variant.get("type") == "integer":
            variant.setdefault("minimum", -limits.ID_MAX)
            variant.setdefault("maximum", limits.ID_MAX)


def complete_operation(operation: dict[str, Any], facts: OperationFacts) -> None:
    """Add to one operation what its route declares (in place, on a copy of the document)."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for documented in [s for s in responses if not s.startswith(("2", "3"))]:
        del responses[documented]  # Litestar's own error schema: never what we send
    if facts.uploads:
        operation["requestBody"] = copy.deepcopy(UPLOAD_BODY)
    takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
    for status in error_statuses(facts, takes_input):
        responses[str(status)] = error_response(status)
    if facts.public:
        operation["security"] = []
    if facts.body_optional and isinstance(operation.get("requestBody"), dict):
        operation["requestBody"]["required"] = False
    operation["description"] = describe(operation, facts)
    for parameter in operation.get("parameters", []):
        bound_parameter(parameter)


def _structs(base: type[msgspec.Struct]) -> list[type[msgspec.Struct]]:
    found = []
    for sub in base.__subclasses__():
        found += [sub, *_structs(sub)]
    return found


def close_request_schemas(schemas: dict[str, Any]) -> None:
    """`additionalProperties: false` on every schema whose struct refuses unknown fields
    (`forbid_unknown_fields=True`: the server answers 422 to an extra field)."""
    for struct in _structs(msgspec.Struct):
        schema = schemas.get(struct.__name__)
        if schema is not None and struct.__struct_config__.forbid_unknown_fields:
            schema["additionalProperties"] = False


def add_field_rules(schemas: dict[str, Any]) -> None:
    for (component, name), rule in FIELD_SCHEMAS.items():
        field = schemas.get(component, {}).get("properties", {}).get(name)
        if field is not None:
            field.update(rule)


def complete_document(
    document: Mapping[str, Any], facts: Mapping[tuple[str, str], OperationFacts]
) -> dict[str, Any]:
    """A copy of `document` with every operation completed from its route's facts."""
    completed = copy.deepcopy(dict(document))
    paths = completed.get("paths", {})
    for path in [p for p in paths if p.startswith(SCHEMA_PAGES_PREFIX)]:
        if path != SCHEMA_DOCUMENT_PATH:
            del paths[path]  # the viewer's pages and assets: not part of the API
    schemas = completed.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(problem_components())
    close_request_schemas(schemas)
    add_field_rules(schemas)
    for path, item in completed.get("paths", {}).items():
        for method, operation in item.items():
            found = facts.get((method.upper(), path))
            if found is not None and isinstance(operation, dict):
                complete_operation(operation, found)
    return completed


class ContractJsonRenderPlugin(JsonRenderPlugin):
    """Serves /schema/openapi.json completed by `complete_document` (built once per app)."""

    def __init__(self) -> None:
        super().__init__()
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            completed = complete_document(openapi_schema, operation_facts(request.app))
            self._rendered = self.render_json(request, completed)
        return self._rendered
