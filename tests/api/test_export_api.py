"""The Beancount export over HTTP: a download that bean-check accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from tests.api.conftest import exchange

BEAN_CHECK = Path(sys.executable).parent / "bean-check"


def test_export_downloads_a_valid_beancount_file(
    client: TestClient[Any], org: str, tmp_path: Path
) -> None:
    body = exchange()
    body["narration"] = 'Exchange "for" Bavet \\ ក្រុម\nline two'
    assert client.post(f"/api/books/{org}/transactions", json=body).status_code == 201
    response = client.get(f"/api/books/{org}/export.beancount")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "charset=utf-8" in response.headers["content-type"]
    assert 'filename="org.beancount"' in response.headers["content-disposition"]
    path = tmp_path / "org.beancount"
    path.write_bytes(response.content)
    checked = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = response.content.decode("utf-8")
    assert 'option "operating_currency" "USD"' in text
    assert "410000 KHR @@ 100.00 USD" in text
