"""The demo company a sandbox starts with: Bryggen Kaffehandel AS.

A Norwegian coffee and office-supply wholesaler in Bergen, with a branch in
Oslo: base currency NOK, Norwegian VAT codes, accounts from the Norwegian
standard chart of accounts (NS 4102), a two-segment subaccount (department,
cost centre), credit terms, projects, and the financial periods of 2024 to
2026 with December 2024 closed. Its customers, suppliers, items, accounts,
VAT codes and so on cover everything the bundled samples (``samples/``) refer
to apart from the samples' own customers and suppliers (010100..., 050010...),
which ``vnimport demo`` imports first; and more, so that a file of one's own
finds customers, suppliers and items to refer to.

Every record is the flat read DTO of the official spec (``InventoryDto``,
``VatInformationDto``, ...); customers and suppliers are made by
:func:`importer.sandbox.documents.create` from a request body, as a POST
would make them. :func:`records` gives them all by list kind;
:func:`importer.sandbox.references.seed` puts them in a store.

Everything here is fixed (no clock, no randomness): two sandboxes started
from it hold the same company.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from importer.sandbox import documents

Json = dict[str, Any]

NAME = "Bryggen Kaffehandel AS"
CORPORATE_ID = "952601814"
BASE_CURRENCY = "NOK"
#: When the demo company's records were last modified (a fixed moment, so
#: that a ``lastModifiedDateTime`` filter of a client's own run finds only
#: what it changed).
SEEDED = datetime(2025, 1, 2, 8, 0, 0)
_STAMP = SEEDED.isoformat(timespec="milliseconds")
#: The financial period that is closed in every ledger (YYYYPP).
CLOSED_PERIOD = "202412"
PERIOD_YEARS = (2024, 2025, 2026)


def _uuid(name: str) -> str:
    """A fixed uuid for a record (the same in every sandbox)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"vnimport-sandbox-demo/{name}"))


def _country(code: str) -> Json:
    return {"id": code, "name": _COUNTRIES[code]}


_COUNTRIES = {"NO": "Norge", "SE": "Sverige", "DK": "Danmark", "DE": "Tyskland", "BR": "Brasil"}

# ----------------------------------------------------------- currencies

_CURRENCIES = [
    # id, description, symbol
    ("NOK", "Norske kroner", "kr"),
    ("EUR", "Euro", "€"),
    ("SEK", "Svenske kroner", "kr"),
    ("DKK", "Danske kroner", "kr"),
    ("USD", "Amerikanske dollar", "$"),
    ("GBP", "Britiske pund", "£"),
]


def _currencies() -> list[Json]:
    return [
        {
            "id": cid,
            "description": text,
            "symbol": symbol,
            "isBaseCurrency": cid == BASE_CURRENCY,
            "decimalPrecision": 2,
            "isUsedForAccounting": True,
        }
        for cid, text, symbol in _CURRENCIES
    ]


# ------------------------------------------------------------- accounts

_ACCOUNTS = [
    # number, description, type, control module ("" none), cash account
    ("1400", "Varelager", "Asset", "", False),
    ("1500", "Kundefordringer", "Asset", "AR", False),
    ("1570", "Andre kortsiktige fordringer", "Asset", "", False),
    ("1900", "Kontanter", "Asset", "", True),
    ("1920", "Bankinnskudd", "Asset", "", True),
    ("1950", "Bankinnskudd for skattetrekk", "Asset", "", True),
    ("2000", "Aksjekapital", "Liability", "", False),
    ("2050", "Annen egenkapital", "Liability", "", False),
    ("2400", "Leverandørgjeld", "Liability", "AP", False),
    ("2600", "Forskuddstrekk", "Liability", "", False),
    ("2700", "Utgående merverdiavgift", "Liability", "", False),
    ("2710", "Inngående merverdiavgift", "Liability", "", False),
    ("2740", "Oppgjørskonto merverdiavgift", "Liability", "", False),
    ("2770", "Skyldig arbeidsgiveravgift", "Liability", "", False),
    ("3000", "Salgsinntekt, avgiftspliktig", "Income", "", False),
    ("3010", "Salgsinntekt frakt, avgiftspliktig", "Income", "", False),
    ("3100", "Salgsinntekt tjenester, avgiftspliktig", "Income", "", False),
    ("3200", "Salgsinntekt, utenfor avgiftsområdet", "Income", "", False),
    ("3210", "Frakt, utenfor avgiftsområdet", "Income", "", False),
    ("3600", "Leieinntekt", "Income", "", False),
    ("4000", "Innkjøp av råvarer og halvfabrikata", "Expense", "", False),
    ("4300", "Innkjøp av varer for videresalg", "Expense", "", False),
    ("5000", "Lønn til ansatte", "Expense", "", False),
    ("5400", "Arbeidsgiveravgift", "Expense", "", False),
    ("6300", "Leie lokaler", "Expense", "", False),
    ("6340", "Lys, varme", "Expense", "", False),
    ("6360", "Renhold", "Expense", "", False),
    ("6540", "Inventar og programvare", "Expense", "", False),
    ("6700", "Revisjons- og regnskapshonorar", "Expense", "", False),
    ("6800", "Kontorrekvisita", "Expense", "", False),
    ("6900", "Telefon og internett", "Expense", "", False),
    ("7100", "Bilgodtgjørelse", "Expense", "", False),
    ("7140", "Reisekostnad", "Expense", "", False),
    ("7320", "Reklamekostnad", "Expense", "", False),
    ("7770", "Bank- og kortgebyrer", "Expense", "", False),
    ("8040", "Renteinntekt", "Income", "", False),
    ("8150", "Rentekostnad", "Expense", "", False),
]
_CLASSES = {"Asset": "EIENDELER", "Liability": "GJELD", "Income": "INNTEKT", "Expense": "KOSTNAD"}


def _accounts() -> list[Json]:
    out = []
    for i, (number, text, kind, module, cash) in enumerate(_ACCOUNTS, start=1):
        record: Json = {
            "accountID": 100 + i,
            "accountCD": number,
            "accountClass": _CLASSES[kind],
            "type": kind,
            "active": True,
            "description": text,
            "useDefaultSub": False,
            "postOption": "Summary",
            "cashAccount": cash,
            "publicCode1": number,
            "lastModifiedDateTime": _STAMP,
            "allowManualEntry": not module,
        }
        if module:
            record["controlAccountModule"] = module
        if cash:
            record["currency"] = BASE_CURRENCY
        out.append(record)
    return out


# ---------------------------------------------------------- subaccounts

#: segment id -> (description, {value: description})
SEGMENTS: dict[int, tuple[str, dict[str, str]]] = {
    1: (
        "Avdeling",
        {"00": "Felles", "10": "Salg", "20": "Service og drift", "30": "Administrasjon"},
    ),
    2: (
        "Kostnadssted",
        {
            "100": "Bergen",
            "200": "Oslo",
            "300": "Eksport",
            "0100": "Butikk Bryggen",
            "0200": "Serviceavdelingen",
            "0300": "Grossist eksport",
        },
    ),
}
_SUBACCOUNTS = [
    ("00", "0100"),
    ("00", "0200"),
    ("00", "0300"),
    ("10", "100"),
    ("10", "200"),
    ("10", "300"),
    ("20", "100"),
    ("20", "200"),
    ("20", "300"),
    ("30", "100"),
]


def _subaccounts() -> list[Json]:
    out = []
    for i, values in enumerate(_SUBACCOUNTS, start=1):
        segments: list[Json] = []
        for segment_id, value in enumerate(values, start=1):
            title, known = SEGMENTS[segment_id]
            segments.append(
                {
                    "segmentId": segment_id,
                    "segmentDescription": title,
                    "segmentValue": value,
                    "segmentValueDescription": known[value],
                }
            )
        out.append(
            {
                "subaccountNumber": "-".join(values),
                "subaccountId": i,
                "description": " / ".join(s["segmentValueDescription"] for s in segments),
                "lastModifiedDateTime": _STAMP,
                "active": True,
                "segments": segments,
            }
        )
    return out


# ------------------------------------------------------------ VAT codes

_VAT = [
    # id, description, rate, direction, Visma XML type, category
    ("0", "Ingen mva-behandling", 0.0, "", "VatTypeExempt", "0"),
    ("1", "Inngående mva, høy sats 25 %", 25.0, "Input", "VatTypeHigh", "1"),
    ("11", "Inngående mva, middels sats 15 %", 15.0, "Input", "VatTypeMedium", "2"),
    ("13", "Inngående mva, lav sats 12 %", 12.0, "Input", "VatTypeLow", "3"),
    ("14", "Fradrag innførselsmva, høy sats 25 %", 25.0, "Input", "VatTypeHigh", "1"),
    ("3", "Utgående mva, høy sats 25 %", 25.0, "Output", "VatTypeHigh", "1"),
    ("31", "Utgående mva, middels sats 15 %", 15.0, "Output", "VatTypeMedium", "2"),
    ("33", "Utgående mva, lav sats 12 %", 12.0, "Output", "VatTypeLow", "3"),
    ("5", "Innenlands omsetning fritatt for mva, 0 %", 0.0, "Output", "VatTypeZero", "4"),
    ("6", "Omsetning utenfor mva-loven", 0.0, "Output", "VatTypeExempt", "0"),
    ("52", "Utførsel av varer og tjenester, 0 %", 0.0, "Output", "VatTypeZero", "4"),
]
#: VAT category id -> description (an item's "VAT code" in InventoryDto)
VAT_CATEGORIES = {
    "0": "Utenfor mva-loven",
    "1": "Høy sats",
    "2": "Middels sats",
    "3": "Lav sats",
    "4": "Nullsats",
}


def _vat_codes() -> list[Json]:
    out = []
    for vat_id, text, rate, direction, xml_type, _category in _VAT:
        record: Json = {
            "vatId": vat_id,
            "description": text,
            "type": "Vat",
            "deductibleVat": direction == "Input",
            "reverseVat": False,
            "statisticalVat": False,
            "pendingVat": False,
            "includeinVatExemptTotal": rate == 0.0 and direction == "Output",
            "includeinVatTotal": bool(direction),
            "enterFromVatInvoice": False,
            "calculateOn": "DocumentAmount",
            "cashDiscount": "ToTaxableAmount",
            "vatAgencyId": {"number": "51000", "name": "Skatteetaten"},
            "documentText": text,
            "vismaXmlVatType": xml_type,
            "lastModifiedDateTime": _STAMP,
            "schedules": [
                {
                    "startDate": "2016-01-01T00:00:00",
                    "vatRate": rate,
                    "minTaxableAmt": 0.0,
                    "maxTaxableAmt": 0.0,
                    "reportingGroup": vat_id,
                    "deductibleVatRate": rate if direction == "Input" else 0.0,
                    "groupType": direction or "Output",
                }
            ],
        }
        if direction == "Output":
            record["glAccounts"] = {
                "vatPayableAccount": {"type": "Liability", "number": "2700", "active": True}
            }
        elif direction == "Input":
            record["glAccounts"] = {
                "vatClaimableAccount": {"type": "Liability", "number": "2710", "active": True}
            }
        out.append(record)
    return out


# ------------------------------------------------------------ VAT zones

_VAT_ZONES = [
    ("01", "Innenlands", "1"),
    ("02", "Utland, EU/EØS", "4"),
    ("03", "Utland utenfor EU/EØS", "4"),
]


def _vat_zones() -> list[Json]:
    return [
        {
            "id": zone,
            "description": text,
            "defaultVatCategory": category,
            "defaultTaxCategory": {"number": category, "description": VAT_CATEGORIES[category]},
        }
        for zone, text, category in _VAT_ZONES
    ]


# ------------------------------------------------------------- branches

_BRANCHES = [
    # number, name, main, address, postal code, city, email
    ("1", NAME, True, "Bryggen 15", "5003", "Bergen", "post@bryggenkaffe.no"),
    ("2", f"{NAME} avd. Oslo", False, "Grønlandsleiret 39", "0190", "Oslo", "oslo@bryggenkaffe.no"),
]


def _branches() -> list[Json]:
    out = []
    for i, (number, name, main, street, postal, city, email) in enumerate(_BRANCHES, start=1):
        out.append(
            {
                "branchId": i,
                "number": number,
                "name": name,
                "organizationId": 1,
                "isMainBranch": main,
                "isActive": True,
                "lastModifiedDateTime": _STAMP,
                "corporateId": CORPORATE_ID,
                "vatRegistrationId": f"NO{CORPORATE_ID}MVA",
                "mainAddress": {
                    "addressId": i,
                    "addressLine1": street,
                    "postalCode": postal,
                    "city": city,
                    "country": _country("NO"),
                },
                "mainContact": {"contactId": i, "name": name, "email": email},
                "defaultCountry": _country("NO"),
                "currency": {"id": "NOK", "description": "Norske kroner", "symbol": "kr"},
                "vatZone": {"id": "01", "description": "Innenlands"},
                "ledger": {"id": "HOVEDBOK", "description": "Hovedbok"},
            }
        )
    return out


# --------------------------------------------------------- credit terms

_TERMS = [
    # id, description, days, discount days, discount percent
    ("0", "Kontant", 0, 0, 0.0),
    ("10", "10 dager netto", 10, 0, 0.0),
    ("14", "14 dager netto", 14, 0, 0.0),
    ("20", "20 dager netto", 20, 0, 0.0),
    ("30", "30 dager netto", 30, 0, 0.0),
    ("45", "45 dager netto", 45, 0, 0.0),
    ("60", "60 dager netto", 60, 0, 0.0),
    ("14D", "14 dager, 2 % rabatt innen 8 dager", 14, 8, 2.0),
    ("30D", "30 dager, 2 % rabatt innen 10 dager", 30, 10, 2.0),
]


def _credit_terms() -> list[Json]:
    return [
        {
            "termsId": terms,
            "description": text,
            "visibleTo": "AL",
            "dueDateType": "N",
            "dueDay1": days,
            "discountType": "N",
            "discountDay": discount_days,
            "discountPercent": percent,
            "delayDays": 0,
            "instalmentType": "S",
            "numberOfInstalments": 1,
            "createdDateTime": _STAMP,
            "lastModifiedDateTime": _STAMP,
        }
        for terms, text, days, discount_days, percent in _TERMS
    ]


# --------------------------------------------------- financial periods

_MONTHS = (
    "Januar",
    "Februar",
    "Mars",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def _financial_periods() -> list[Json]:
    out = []
    for year in PERIOD_YEARS:
        for month in range(1, 13):
            period = f"{year}{month:02d}"
            end = datetime(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
            closed = period == CLOSED_PERIOD
            out.append(
                {
                    "year": year,
                    "period": period,
                    "startDate": datetime(year, month, 1).isoformat(),
                    "endDate": end.isoformat(),
                    "description": f"{_MONTHS[month - 1]} {year}",
                    "active": True,
                    "closedInSupplierLedger": closed,
                    "closedInCustomerLedger": closed,
                    "closedInInventoryManagement": closed,
                    "closedInGeneralLedger": closed,
                    "closedInCashManagement": closed,
                    "closedInFixedAssets": closed,
                }
            )
    return out


# -------------------------------------------------------------- items

_ITEM_TYPES = {"S": "FinishedGoodItem", "N": "NonStockItem", "C": "ChargeItem", "V": "ServiceItem"}
_ITEMS = [
    # number, description, type (_ITEM_TYPES), unit, price, cost, VAT category, posting class
    ("000120", "Kaffe, filtermalt 250 g", "S", "STK", 59.90, 34.00, "2", "KAFFE"),
    ("000121", "Kaffe, filtermalt 500 g", "S", "STK", 109.00, 62.00, "2", "KAFFE"),
    ("000122", "Kaffe, grovmalt presskanne 500 g", "S", "STK", 119.00, 66.00, "2", "KAFFE"),
    ("000123", "Kaffe, hele bønner 1 kg", "S", "STK", 189.50, 112.00, "2", "KAFFE"),
    ("000124", "Bits PZ2 50 mm 10-pk", "S", "PAK", 59.00, 39.90, "1", "REKV"),
    ("000245", "Filterpapir nr. 4", "S", "PK", 24.90, 11.50, "1", "REKV"),
    ("000310", "Vernehansker str. 9", "S", "PAR", 98.00, 64.00, "1", "REKV"),
    ("000457", "Toner sort HP 305A", "S", "STK", 1390.00, 1149.00, "1", "REKV"),
    ("000555", "Kopper, 12 stk", "S", "PK", 299.00, 165.00, "1", "REKV"),
    ("000560", "Kaffebønner mørkbrent 1 kg", "S", "STK", 399.00, 289.00, "2", "KAFFE"),
    ("000561", "Kaffebønner lysbrent 1 kg", "S", "STK", 409.00, 299.00, "2", "KAFFE"),
    ("000702", "Pappeske 40x30x20 cm", "S", "STK", 19.90, 12.40, "1", "REKV"),
    ("000705", "Bobleplast 50 cm x 100 m", "S", "RUL", 349.00, 249.00, "1", "REKV"),
    ("000871", "Pakning og ventil", "S", "STK", 389.00, 210.00, "1", "MASKIN"),
    ("000990", "Kaffekvern, industri", "S", "STK", 14900.00, 9800.00, "1", "MASKIN"),
    ("001010", "Espressomaskin, 2 grupper", "S", "STK", 48900.00, 31500.00, "1", "MASKIN"),
    ("001020", "Melkekanne 0,6 l", "S", "STK", 249.00, 120.00, "1", "REKV"),
    ("1040", "Kaffe Fjellbrygg 500 g", "S", "STK", 89.90, 52.00, "2", "KAFFE"),
    ("1052", "Multekrem på glass 250 g", "S", "STK", 64.50, 38.00, "2", "MAT"),
    ("1060", "Vafler, 10 stk", "S", "PK", 79.00, 41.00, "2", "MAT"),
    ("2001", "Kontorstol Ergo Pluss", "S", "STK", 2490.00, 1590.00, "1", "MOBEL"),
    ("2017", "Skrivebord hev/senk 160 cm", "S", "STK", 5990.00, 3900.00, "1", "MOBEL"),
    ("004120", "Konstruksjonsvirke 48x98 C24", "N", "M", 45.00, 32.90, "1", "BYGG"),
    ("004388", "Gipsplater 12,5 mm 120x240", "N", "STK", 159.00, 119.00, "1", "BYGG"),
    ("FRAKT", "Frakt", "C", "STK", 450.00, 0.0, "1", "TJENESTE"),
    ("SERVICE", "Service espressomaskin, per time", "V", "TIME", 1250.00, 0.0, "1", "TJENESTE"),
    ("RÅDGIVNING", "Rådgivning kaffebar, per time", "V", "TIME", 1350.00, 0.0, "1", "TJENESTE"),
    ("LEIE", "Leie av kaffemaskin, per måned", "V", "MND", 990.00, 0.0, "1", "TJENESTE"),
    ("222", "Poteter, 25 kg sekk", "S", "STK", 149.00, 95.00, "2", "MAT"),
]
_POSTING = {
    "KAFFE": ("Kaffe og te", "3000"),
    "REKV": ("Rekvisita", "3000"),
    "MASKIN": ("Maskiner og deler", "3000"),
    "MAT": ("Matvarer", "3000"),
    "MOBEL": ("Kontormøbler", "3000"),
    "BYGG": ("Byggevarer, ikke lager", "3000"),
    "TJENESTE": ("Tjenester og frakt", "3100"),
}


def _items(rows: list[tuple[str, str, str, str, float, float, str, str]] = _ITEMS) -> list[Json]:
    out = []
    for i, (number, text, code, unit, price, cost, category, posting) in enumerate(rows, 1):
        kind = _ITEM_TYPES[code]
        posting_text, sales_account = _POSTING[posting]
        stock = kind == "FinishedGoodItem"
        record: Json = {
            "inventoryId": 1000 + i,
            "inventoryNumber": number,
            "status": "Active",
            "type": kind,
            "description": text,
            "itemClass": {"id": posting, "description": posting_text, "type": kind},
            "postingClass": {"id": posting, "description": posting_text},
            "vatCode": {"id": category, "description": VAT_CATEGORIES[category]},
            "defaultPrice": price,
            "lastModifiedDateTime": _STAMP,
            "baseUnit": unit,
            "salesUnit": unit,
            "purchaseUnit": unit,
            "stockItem": stock,
            "kitItem": False,
            "accountInformation": {
                "salesAccount": {"type": "Income", "number": sales_account},
                "cogsAccount": {"type": "Expense", "number": "4300"},
            },
            "recommendedPrice": price,
        }
        if stock:
            record["currentCost"] = cost
            record["lastCost"] = cost
        out.append(record)
    return out


# ------------------------------------------------------------- projects

_PROJECTS = [
    # id, description, customer (number, name) or None, branch, status, start
    (
        "PRJ-0042",
        "Kaffebar Solsiden, service 2025",
        ("11003", "Solsiden Bakeri AS"),
        "1",
        "Active",
        "2025-01-01",
    ),
    ("P1024", "Renovering lager Ørsta", None, "1", "Active", "2025-09-01"),
    (
        "P1025",
        "Ny kaffebar Torgallmenningen",
        ("11001", "Fjellbekk Kafé AS"),
        "1",
        "Active",
        "2025-06-01",
    ),
    ("P2001", "Messe Oslo 2025", None, "2", "Completed", "2025-02-01"),
    ("X", "Ikke-prosjekt", None, "1", "Active", "2016-01-01"),
]
_TASKS = [("01", "Planlegging"), ("02", "Gjennomføring"), ("03", "Avslutning")]


def _projects() -> list[Json]:
    branches = {b[0]: b[1] for b in _BRANCHES}
    out = []
    for i, (pid, text, customer, branch, status, start) in enumerate(_PROJECTS, start=1):
        record: Json = {
            "internalID": i,
            "projectID": pid,
            "hold": False,
            "status": status,
            "description": text,
            "startDate": f"{start}T00:00:00",
            "visibility": {
                f"visibleIn{ledger}": True
                for ledger in ("Gl", "Ap", "Ar", "So", "Po", "Ea", "Ta", "In", "Ca", "Cr")
            },
            "branch": {"number": branch, "name": branches[branch]},
            "lastModifiedDateTime": _STAMP,
            "publicId": _uuid(f"project/{pid}"),
            "systemTemplate": False,
            "tasks": []
            if pid == "X"
            else [{"taskId": t, "description": d, "status": "Active"} for t, d in _TASKS],
        }
        if customer is not None:
            record["customer"] = {"number": customer[0], "name": customer[1]}
        out.append(record)
    return out


# --------------------------------------------------- customers, suppliers

# number, name, org no (corporateId), currency, credit terms, VAT zone
_CUSTOMERS = [
    ("11001", "Fjellbekk Kafé AS", "959083010", "NOK", "14", "01"),
    ("11002", "Nordkapp Hotell AS", "966131861", "NOK", "30", "01"),
    ("11003", "Solsiden Bakeri AS", "909139090", "NOK", "14", "01"),
    ("11004", "Lofoten Sjømat AS", "996030822", "NOK", "30", "01"),
    ("11005", "Grünerløkka Kontorfellesskap AS", "946281948", "NOK", "10", "01"),
    ("11006", "Hardanger Fruktlager SA", "982199352", "NOK", "30", "01"),
    ("11007", "Stavanger Konserthus Kafé AS", "918190937", "NOK", "20", "01"),
    ("11008", "Tromsø Kaffebrenneri AS", "978657974", "NOK", "30D", "01"),
    ("11009", "Ålesund Jugend Hotell AS", "954323196", "NOK", "30", "01"),
    ("11010", "Göteborgs Kafferosteri AB", "5565432109", "SEK", "30", "02"),
    ("11011", "Hamburger Kaffeekontor GmbH", "DE287654321", "EUR", "30", "02"),
    ("11012", "Kari Nordmann", "", "NOK", "10", "01"),
]
# number, name, org no, currency, credit terms, VAT zone, expense account
_SUPPLIERS = [
    ("51000", "Skatteetaten", "974761076", "NOK", "0", "01", "2740"),
    ("51001", "Kaffeimport Norge AS", "948757494", "NOK", "30", "01", "4300"),
    ("51002", "Papirgrossisten Vest AS", "911862522", "NOK", "30", "01", "6800"),
    ("51003", "Vestlandsfrakt AS", "976018958", "NOK", "14", "01", "4300"),
    ("51004", "Fjordnett AS", "955979710", "NOK", "14", "01", "6900"),
    ("51005", "Eiendomsselskapet Bryggen AS", "914710499", "NOK", "0", "01", "6300"),
    ("51006", "Regnskapshuset Bergen AS", "974650754", "NOK", "14", "01", "6700"),
    ("51007", "Kaffemaskinservice Norge AS", "929170342", "NOK", "30", "01", "4300"),
    ("51008", "Svenska Kaffekoppar AB", "5567788990", "SEK", "30", "02", "4300"),
    ("51009", "Café do Brasil Exportadora Ltda", "", "USD", "60", "03", "4000"),
    ("51010", "BKK Energi AS", "923667121", "NOK", "14", "01", "6340"),
]
# number -> street, postal code, city, country, email
_ADDRESSES = {
    "11001": ("Kong Oscars gate 12", "5017", "Bergen", "NO", "post@fjellbekk.no"),
    "11002": ("Fiskeriveien 4", "9750", "Honningsvåg", "NO", "booking@nordkapphotell.no"),
    "11003": ("Beddingen 10", "7042", "Trondheim", "NO", "ordre@solsidenbakeri.no"),
    "11004": ("Havnegata 3", "8300", "Svolvær", "NO", "regnskap@lofotensjomat.no"),
    "11005": ("Thorvald Meyers gate 51", "0555", "Oslo", "NO", "faktura@lokka-kontor.no"),
    "11006": ("Sjøvegen 22", "5780", "Kinsarvik", "NO", "post@hardangerfrukt.no"),
    "11007": ("Sandvigå 1", "4007", "Stavanger", "NO", "kafe@konserthuskafe.no"),
    "11008": ("Storgata 80", "9008", "Tromsø", "NO", "post@tromsokaffe.no"),
    "11009": ("Apotekergata 16", "6004", "Ålesund", "NO", "innkjop@jugendhotell.no"),
    "11010": ("Magasinsgatan 3", "41118", "Göteborg", "SE", "order@gbgkafferosteri.se"),
    "11011": ("Speicherstadt 7", "20457", "Hamburg", "DE", "einkauf@kaffeekontor.de"),
    "11012": ("Fjellveien 3", "5019", "Bergen", "NO", "kari.nordmann@example.no"),
    "51000": ("Postboks 9200 Grønland", "0134", "Oslo", "NO", "post@skatteetaten.no"),
    "51001": ("Kværnerveien 5", "0193", "Oslo", "NO", "ordre@kaffeimport.no"),
    "51002": ("Kokstadvegen 30", "5257", "Kokstad", "NO", "faktura@papirgrossisten.no"),
    "51003": ("Kong Christian Frederiks plass 3", "5006", "Bergen", "NO", "post@vestfrakt.no"),
    "51004": ("Lars Hilles gate 30", "5008", "Bergen", "NO", "kundeservice@fjordnett.no"),
    "51005": ("Bryggen 15", "5003", "Bergen", "NO", "leie@bryggen-eiendom.no"),
    "51006": ("Olav Kyrres gate 22", "5014", "Bergen", "NO", "post@regnskapshuset.no"),
    "51007": ("Nils Hansens vei 8", "0667", "Oslo", "NO", "service@kmservice.no"),
    "51008": ("Vasagatan 12", "11120", "Stockholm", "SE", "order@kaffekoppar.se"),
    "51009": ("Rua do Café 100", "11010-000", "Santos", "BR", "export@cafedobrasil.com.br"),
    "51010": ("Kokstadvegen 37", "5257", "Kokstad", "NO", "faktura@bkkenergi.no"),
}


def _party_body(number: str, name: str, org: str, currency: str, terms: str, zone: str) -> Json:
    street, postal, city, country, email = _ADDRESSES[number]
    body: Json = {
        "number": number,
        "name": name,
        "status": "Active",
        "currencyId": currency,
        "creditTermsId": terms,
        "vatZoneId": zone,
        "mainAddress": {
            "addressLine1": street,
            "postalCode": postal,
            "city": city,
            "countryId": country,
        },
        "mainContact": {"name": name, "email": email},
    }
    if org:
        body["corporateId"] = org
        body["vatRegistrationId"] = _vat_id(org, country)
    return body


def _vat_id(org: str, country: str) -> str:
    if not org:
        return ""
    return f"NO{org}MVA" if country == "NO" else org


def customer_bodies() -> list[Json]:
    """The demo customers, as ``POST /v1/customer`` bodies (unwrapped)."""
    out = []
    for number, name, org, currency, terms, zone in _CUSTOMERS:
        body = _party_body(number, name, org, currency, terms, zone)
        domestic = body["mainAddress"]["countryId"] == "NO"
        body.update(
            customerClassId="1" if domestic else "2",
            sendInvoicesByEmail=True,
            creditVerification="CreditLimit",
            creditLimit=100000.0 if org else 10000.0,
        )
        out.append(body)
    return out


def supplier_bodies() -> list[Json]:
    """The demo suppliers, as ``POST /v1/supplier`` bodies (unwrapped)."""
    out = []
    for number, name, org, currency, terms, zone, expense in _SUPPLIERS:
        body = _party_body(number, name, org, currency, terms, zone)
        domestic = body["mainAddress"]["countryId"] == "NO"
        body.update(
            supplierClassId="1" if domestic else "2",
            paymentMethodId="BANK",
            paymentLeadTime=1,
            glAccounts={"supplierAccount": "2400", "expenseAccount": expense},
        )
        out.append(body)
    return out


def _parties(kind_name: str, bodies: list[Json]) -> list[Json]:
    kind = documents.KINDS[kind_name]
    made: dict[str, Json] = {}

    def lookup(k: str, number: str) -> Json | None:
        return made.get(number) if k == kind_name else None

    for body in bodies:
        made[body["number"]] = documents.create(
            kind, body, number=body["number"], now=SEEDED, lookup=lookup
        )
    return list(made.values())


def records() -> dict[str, list[Json]]:
    """Every record of the demo company, by list kind (see
    :data:`importer.sandbox.references.LISTS`), customers and suppliers too."""
    return {
        "customer": _parties("customer", customer_bodies()),
        "supplier": _parties("supplier", supplier_bodies()),
        "inventory": _items(),
        "vat": _vat_codes(),
        "vat_zone": _vat_zones(),
        "account": _accounts(),
        "subaccount": _subaccounts(),
        "branch": _branches(),
        "currency": _currencies(),
        "credit_term": _credit_terms(),
        "project": _projects(),
        "financial_period": _financial_periods(),
    }


# ------------------------------------------------------- a large company

#: The large company (``SandboxConfig(company="large")``): the demo company
#: with this many customers and items in all, for benchmarks of what reads
#: a company's lists (importer.company_checks).
LARGE_CUSTOMERS = 5000
LARGE_ITEMS = 2000
_PREFIXES = (
    *("Nordre", "Søndre", "Østre", "Vestre", "Gamle", "Nye", "Store", "Lille", "Øvre"),
    *("Nedre", "Indre", "Ytre", "Sentrum", "Bryggen", "Torget", "Stasjon", "Havne"),
    *("Fjord", "Fjell", "Skog", "Elve", "Sjø", "Strand", "Dal", "Berg"),
)
_PLACES = (
    *(("Bergen", "5003"), ("Oslo", "0150"), ("Trondheim", "7011"), ("Stavanger", "4006")),
    *(("Tromsø", "9008"), ("Ålesund", "6002"), ("Bodø", "8006"), ("Drammen", "3015")),
    *(("Kristiansand", "4611"), ("Fredrikstad", "1606"), ("Haugesund", "5527")),
    *(("Molde", "6413"), ("Lillehammer", "2609"), ("Hamar", "2317"), ("Gjøvik", "2815")),
    *(("Arendal", "4836"), ("Harstad", "9405"), ("Narvik", "8514"), ("Alta", "9510")),
    ("Voss", "5700"),
)
_TRADES = (
    *("Kafé", "Bakeri", "Hotell", "Kantine", "Kontorsenter", "Kaffebar", "Restaurant"),
    *("Catering", "Konditori", "Gjestehus"),
)
_GOODS = ("Kaffe", "Te", "Kakao", "Kopper", "Filter", "Servietter", "Sukker", "Kjeks")
_KINDS = ("lys", "mørk", "økologisk", "premium", "standard", "klassisk")
_SIZES = ("250 g", "500 g", "1 kg", "10-pk", "50-pk")


def large_customer_bodies(count: int = LARGE_CUSTOMERS) -> list[Json]:
    """The large company's customers beyond the demo company's, as
    ``POST /v1/customer`` bodies: ``count`` in all, numbered from 20001."""
    out = []
    for i in range(count - len(_CUSTOMERS)):
        prefix = _PREFIXES[i % len(_PREFIXES)]
        city, postal = _PLACES[i // len(_PREFIXES) % len(_PLACES)]
        trade = _TRADES[i // (len(_PREFIXES) * len(_PLACES)) % len(_TRADES)]
        number, name = str(20001 + i), f"{prefix} {city} {trade} AS"
        out.append(
            {
                "number": number,
                "name": name,
                "status": "Active",
                "currencyId": BASE_CURRENCY,
                "creditTermsId": ("14", "30", "10")[i % 3],
                "vatZoneId": "01",
                "mainAddress": {
                    "addressLine1": f"{trade}gata {i % 97 + 1}",
                    "postalCode": postal,
                    "city": city,
                    "countryId": "NO",
                },
                "mainContact": {"name": name, "email": f"faktura{number}@example.no"},
                "customerClassId": "1",
            }
        )
    return out


def _large_items(count: int = LARGE_ITEMS) -> list[Json]:
    rows = list(_ITEMS)
    for i in range(count - len(_ITEMS)):
        goods = _GOODS[i % len(_GOODS)]
        kind = _KINDS[i // len(_GOODS) % len(_KINDS)]
        size = _SIZES[i // (len(_GOODS) * len(_KINDS)) % len(_SIZES)]
        price = 20.0 + (i * 37) % 900
        rows.append(
            (str(100001 + i), f"{goods} {kind} {size}", "S", "STK", price, round(price * 0.6, 2),
             "2" if goods in ("Kaffe", "Te", "Kakao", "Sukker", "Kjeks") else "1", "REKV")
        )  # fmt: skip
    return _items(rows)


def large_records(
    customers: int = LARGE_CUSTOMERS, items: int = LARGE_ITEMS
) -> dict[str, list[Json]]:
    """The demo company with ``customers`` customers and ``items`` items in all."""
    found = records()
    found["customer"] += _parties("customer", large_customer_bodies(customers))
    found["inventory"] = _large_items(items)
    return found
