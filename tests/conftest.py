from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from importer.doctypes import Registry  # noqa: E402

TYPES = [
    "customer",
    "supplier",
    "customer_invoice",
    "customer_credit_note",
    "customer_debit_note",
    "supplier_invoice",
    "purchase_order",
]


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry()


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return ROOT / "samples"
