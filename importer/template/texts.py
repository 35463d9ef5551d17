"""The words of a template workbook (:mod:`importer.template.workbook`), by language.

One table per language, with the same keys; ``{name}`` is a parameter. The
column headers, the enum words and the field descriptions come from the
type's schema, not from here (a schema's descriptions are in English).
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("en", "nb", "sv")

TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "instructions": "Instructions",
        "lists": "Lists",
        "list": "list",
        "yes": "Yes",
        "no": "No",
        "or": " or ",
        # a header's note
        "required": "Required.",
        "format": "Format: {format}",
        "example": "Example: {example}",
        "one-of": "One of the list: {values}",
        "one-of-many": "One of the list ({n} values).",
        "company-list": "The list is your company's, read from Visma.net.",
        "line-column": "Line column: one value per line.",
        "document-column": "Document column: the same on every line of a document "
        "(blank on its extra lines = same as above).",
        "field": "Visma.net field: {field}",
        "aliases": "Also read as: {aliases}",
        # formats
        "kind.string": "text",
        "kind.code": "text; a code, so leading zeros are kept (0101)",
        "kind.number": "number",
        "kind.integer": "whole number",
        "kind.date": "date (an Excel date, or 2025-01-31)",
        "kind.boolean": "yes or no",
        "max-length": "at most {n} characters",
        "minimum": "at least {n}",
        "maximum": "at most {n}",
        "above": "more than {n}",
        "below": "less than {n}",
        # a dropdown's warning
        "not-listed-title": "Not in the list",
        "not-listed": "This value is not one of the list. Keep it only if you are sure: "
        "vnimport validate checks it.",
        # the instructions sheet
        "intro": "A workbook to fill for vnimport: document type {type} ({title}).",
        "rows.lines": "Fill in the sheet “{sheet}”, one row per line of a document. The rows "
        "of one document share its key: {keys} (the first of these that is filled on every "
        "row groups the rows).",
        "rows.single": "Fill in the sheet “{sheet}”: one row is one document, known by {keys}.",
        "colours": "Blue columns belong to the document: the same on every line of it; leave "
        "them blank on its extra lines to mean “same as above”. Green columns are each "
        "line's own.",
        "required-columns": "Columns in bold marked * must be filled: {columns}. The * may "
        "stay: vnimport reads the header without it.",
        "notes": "Each header has a note (point at it): what the column means, its format "
        "and an example.",
        "dropdowns": "A column with a dropdown takes one of its values; vnimport also reads "
        "Visma's own words for them.",
        "lists-sheet": "The lists are on the sheet “{sheet}”.",
        "company-lists": "The lists of {columns} are your company's, read from Visma.net "
        "when this workbook was made.",
        "formats": "Dates: Excel dates, or written 2025-01-31. Numbers: Excel numbers "
        "(1234.5). Codes (customer, item and account numbers, postal codes) are text: "
        "0101 keeps its 0.",
        "headers": "Keep the header row as it is. Columns may be moved, and those you do not "
        "use left empty or deleted (not the required ones). Other headers mean the same "
        "columns: vnimport types {type} lists them.",
        "check": "Check the filled workbook: vnimport validate {file} --type {type}. "
        "Then send it: vnimport run {file} --type {type}.",
        "table.column": "Column",
        "table.required": "Required",
        "table.format": "Format",
        "table.example": "Example",
        "table.meaning": "Meaning",
    },
    "nb": {
        "instructions": "Instruksjoner",
        "lists": "Lister",
        "list": "liste",
        "yes": "Ja",
        "no": "Nei",
        "or": " eller ",
        "required": "Påkrevd.",
        "format": "Format: {format}",
        "example": "Eksempel: {example}",
        "one-of": "En av verdiene i listen: {values}",
        "one-of-many": "En av verdiene i listen ({n} verdier).",
        "company-list": "Listen er firmaets egen, lest fra Visma.net.",
        "line-column": "Linjekolonne: én verdi per linje.",
        "document-column": "Dokumentkolonne: samme verdi på alle linjene i et dokument "
        "(tom på de neste linjene = samme som over).",
        "field": "Felt i Visma.net: {field}",
        "aliases": "Leses også som: {aliases}",
        "kind.string": "tekst",
        "kind.code": "tekst; en kode, så innledende nuller beholdes (0101)",
        "kind.number": "tall",
        "kind.integer": "heltall",
        "kind.date": "dato (en Excel-dato, eller 2025-01-31)",
        "kind.boolean": "ja eller nei",
        "max-length": "høyst {n} tegn",
        "minimum": "minst {n}",
        "maximum": "høyst {n}",
        "above": "over {n}",
        "below": "under {n}",
        "not-listed-title": "Ikke i listen",
        "not-listed": "Verdien er ikke i listen. Behold den bare hvis du er sikker: "
        "vnimport validate kontrollerer den.",
        "intro": "En arbeidsbok å fylle ut for vnimport: dokumenttype {type} ({title}).",
        "rows.lines": "Fyll ut arket «{sheet}», én rad per linje i et dokument. Radene i ett "
        "dokument har samme nøkkel: {keys} (den første av disse som er fylt ut på alle "
        "rader, grupperer radene).",
        "rows.single": "Fyll ut arket «{sheet}»: én rad er ett dokument, kjent ved {keys}.",
        "colours": "Blå kolonner gjelder hele dokumentet: samme verdi på alle linjene; la dem "
        "stå tomme på de neste linjene for «samme som over». Grønne kolonner gjelder hver "
        "linje for seg.",
        "required-columns": "Kolonner i fet skrift merket * må fylles ut: {columns}. "
        "Stjernen kan stå: vnimport leser overskriften uten den.",
        "notes": "Hver overskrift har en merknad (pek på den): hva kolonnen betyr, formatet "
        "og et eksempel.",
        "dropdowns": "En kolonne med nedtrekksliste tar en av verdiene i listen; vnimport "
        "leser også Vismas egne ord for dem.",
        "lists-sheet": "Listene står på arket «{sheet}».",
        "company-lists": "Listene for {columns} er firmaets egne, lest fra Visma.net da "
        "arbeidsboken ble laget.",
        "formats": "Datoer: Excel-datoer, eller skrevet 2025-01-31. Tall: Excel-tall "
        "(1234,5). Koder (kunde-, vare- og kontonumre, postnumre) er tekst: 0101 beholder "
        "sin 0.",
        "headers": "La overskriftsraden stå som den er. Kolonner kan flyttes, og de du ikke "
        "bruker, kan stå tomme eller slettes (ikke de påkrevde). Andre overskrifter betyr "
        "de samme kolonnene: vnimport types {type} viser dem.",
        "check": "Kontroller den utfylte arbeidsboken: vnimport validate {file} --type {type}. "
        "Send den så: vnimport run {file} --type {type}.",
        "table.column": "Kolonne",
        "table.required": "Påkrevd",
        "table.format": "Format",
        "table.example": "Eksempel",
        "table.meaning": "Betydning",
    },
    "sv": {
        "instructions": "Instruktioner",
        "lists": "Listor",
        "list": "lista",
        "yes": "Ja",
        "no": "Nej",
        "or": " eller ",
        "required": "Obligatorisk.",
        "format": "Format: {format}",
        "example": "Exempel: {example}",
        "one-of": "Ett av värdena i listan: {values}",
        "one-of-many": "Ett av värdena i listan ({n} värden).",
        "company-list": "Listan är företagets egen, läst från Visma.net.",
        "line-column": "Radkolumn: ett värde per rad.",
        "document-column": "Dokumentkolumn: samma värde på alla rader i ett dokument "
        "(tom på de följande raderna = samma som ovan).",
        "field": "Fält i Visma.net: {field}",
        "aliases": "Läses också som: {aliases}",
        "kind.string": "text",
        "kind.code": "text; en kod, så inledande nollor behålls (0101)",
        "kind.number": "tal",
        "kind.integer": "heltal",
        "kind.date": "datum (ett Excel-datum, eller 2025-01-31)",
        "kind.boolean": "ja eller nej",
        "max-length": "högst {n} tecken",
        "minimum": "minst {n}",
        "maximum": "högst {n}",
        "above": "över {n}",
        "below": "under {n}",
        "not-listed-title": "Inte i listan",
        "not-listed": "Värdet finns inte i listan. Behåll det bara om du är säker: "
        "vnimport validate kontrollerar det.",
        "intro": "En arbetsbok att fylla i för vnimport: dokumenttyp {type} ({title}).",
        "rows.lines": "Fyll i bladet ”{sheet}”, en rad per rad i ett dokument. Raderna i "
        "ett dokument har samma nyckel: {keys} (den första av dessa som är ifylld på "
        "alla rader grupperar raderna).",
        "rows.single": "Fyll i bladet ”{sheet}”: en rad är ett dokument, känt genom {keys}.",
        "colours": "Blå kolumner gäller hela dokumentet: samma värde på alla dess rader; "
        "lämna dem tomma på de följande raderna för ”samma som ovan”. Gröna kolumner "
        "gäller varje rad för sig.",
        "required-columns": "Kolumner i fetstil märkta * måste fyllas i: {columns}. "
        "Stjärnan kan stå kvar: vnimport läser rubriken utan den.",
        "notes": "Varje rubrik har en kommentar (peka på den): vad kolumnen betyder, formatet "
        "och ett exempel.",
        "dropdowns": "En kolumn med en rullgardinslista tar ett av listans värden; vnimport "
        "läser också Vismas egna ord för dem.",
        "lists-sheet": "Listorna finns på bladet ”{sheet}”.",
        "company-lists": "Listorna för {columns} är företagets egna, lästa från Visma.net "
        "när arbetsboken skapades.",
        "formats": "Datum: Excel-datum, eller skrivna 2025-01-31. Tal: Excel-tal (1234,5). "
        "Koder (kund-, artikel- och kontonummer, postnummer) är text: 0101 behåller sin "
        "nolla.",
        "headers": "Låt rubrikraden vara som den är. Kolumner kan flyttas, och de du inte "
        "använder kan lämnas tomma eller tas bort (inte de obligatoriska). Andra rubriker "
        "betyder samma kolumner: vnimport types {type} visar dem.",
        "check": "Kontrollera den ifyllda arbetsboken: vnimport validate {file} --type {type}. "
        "Skicka den sedan: vnimport run {file} --type {type}.",
        "table.column": "Kolumn",
        "table.required": "Obligatorisk",
        "table.format": "Format",
        "table.example": "Exempel",
        "table.meaning": "Betydelse",
    },
}


def text(lang: str, key: str, **params: object) -> str:
    """The text ``key`` in ``lang``, with ``params``."""
    return TEXTS[lang][key].format(**params)
