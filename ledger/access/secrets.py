"""The key that signs access tokens: from the environment, never from the code or the repo.

`LEDGER_SECRET_KEY` wins. The embedded default generates a random key once and keeps it in
`var/secret.key`, readable by its owner only (0600), beside the SQLite file.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_KEY_ENV = "LEDGER_SECRET_KEY"  # noqa: S105 - the name of a variable
SECRET_KEY_PATH_DEFAULT = Path("var") / "secret.key"
SECRET_KEY_LENGTH_MIN = 32


def load_secret_key(path: Path = SECRET_KEY_PATH_DEFAULT) -> str:
    from_env = os.environ.get(SECRET_KEY_ENV)
    if from_env is not None:
        if len(from_env) < SECRET_KEY_LENGTH_MIN:
            raise ValueError(
                f"{SECRET_KEY_ENV} must have at least {SECRET_KEY_LENGTH_MIN} characters"
            )
        return from_env
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if len(key) < SECRET_KEY_LENGTH_MIN:
            raise ValueError(f"{path} holds a key shorter than {SECRET_KEY_LENGTH_MIN} characters")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create with 0600 from the start: never a moment when others could read it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(key + "\n")
    return key
