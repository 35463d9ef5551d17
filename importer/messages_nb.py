"""Norwegian (bokmål) for the catalogue of :mod:`importer.codes`, as data.

:data:`MESSAGES_NB` says every message of ``MESSAGES["en"]`` again, with the
same ``{parameters}`` (their values stay as vnimport gives them: the user's own
text, field titles and Visma's words); :data:`TITLES_NB` and
:data:`STATUS_TITLES_NB` give each code's and each status's title. Words are
those Visma.net's Norwegian interface and accountants use (kunde, leverandør,
kreditnota, innkjøpsordre, firma, kjøring, angre, frigi ...). Messages that are
fragments of a longer text stay fragments, starting in lower case.
"""

from __future__ import annotations

TITLES_NB: dict[str, str] = {
    # reading and mapping the file
    "error": "vnimport stoppet",
    "file-error": "Filen kan ikke leses",
    "column-error": "Overskriftsraden kan ikke brukes",
    "doctype-error": "Dokumenttypen er ukjent eller ødelagt",
    "config-error": "Innstillingene mangler eller er feil",
    "auth-error": "Visma.net avviste påloggingsopplysningene",
    "redirect": "Visma.net svarte med en omdirigering som ikke følges",
    "bad-number": "Dokumentnummeret kan ikke være del av en adresse",
    "internal-error": "vnimport feilet (en programfeil)",
    "visma-error": "Visma.net svarte ikke på det kjøringen må vite først",
    "journal-error": "Journalen kan ikke brukes, eller gikk tapt under kjøringen",
    "in-progress": "En annen kjøring sender dette dokumentet",
    "encoding": "csv-filen er ikke UTF-8",
    "hidden-sheet": "Et ark er skjult i Excel",
    "hidden-column": "En kolonne er skjult i Excel",
    "hidden-row": "Rader er skjult i Excel",
    "other-sheet": "Andre ark ble ikke lest",
    "unknown-column": "En kolonne vnimport ikke kjenner",
    "skipped-column": "En kolonne tilordningen utelater",
    "mapping-unused": "En tilordningsregel passer ikke til noen kolonne",
    # checking rows
    "required": "En verdi er påkrevd",
    "type": "Verdien har feil type",
    "unmapped": "En verdi tilordningsfilens register ikke har",
    "enum": "Verdien er ikke blant de tillatte",
    "format": "Verdien har ikke det påkrevde formatet",
    "pattern": "Verdien har ikke den forventede formen",
    "too-long": "Teksten er for lang",
    "too-short": "Teksten er for kort",
    "too-small": "Tallet er under minsteverdien",
    "too-large": "Tallet er over maksimumsverdien",
    "incomplete": "Raden mangler et felt den trenger",
    "const": "Verdien er ikke den som er tillatt",
    "multiple-of": "Tallet er ikke et multiplum av det tillatte trinnet",
    "not": "Verdien er en dokumenttypen utelukker",
    "schema": "Verdien bryter en regel i dokumenttypen",
    "invalid-date": "Datoen kan ikke leses",
    "excel-error": "Cellen viser en Excel-feil",
    "control-character": "Cellen inneholder et kontrolltegn",
    "number-code": "En kode kan ha mistet innledende nuller",
    "control-total": "En kontrollsum stemmer ikke med verdiene den kontrollerer",
    "not-before": "En dato er før datoen den ikke kan komme før",
    "negative": "Et tall er negativt der det ikke skal være det",
    "emails": "Flere e-postadresser enn feltet tar",
    "conflicting-header": "Dokumentets rader er uenige",
    "duplicate-key": "Dokumentet står to ganger i filen",
    "missing-key": "Raden har ingen dokumentnøkkel",
    "continuation-header": "En rad som fortsetter et dokument, fyller en overskriftscelle",
    "total-row": "En sumrad stemmer ikke med summen av kolonnen",
    "unknown-key": "Linjens dokument står ikke på overskriftsarket",
    "no-lines": "Dokumentet har ingen linjer",
    "document-invalid": "En annen rad i dokumentet er ugyldig",
    "template-error": "Dokumenttypens mal feilet på dette dokumentet",
    # checking rows against the company in Visma
    "unknown-reference": "Firmaet i Visma har ingen slik kunde, vare, kode ...",
    "closed-period": "Dokumentets regnskapsperiode er lukket i Visma",
    "name-mismatch": "Navnet er ikke det Visma har for nummeret",
    "already-in-visma": "Dokumentet finnes allerede i Visma",
    # sending
    "http-400": "Visma avviste forespørselen (400)",
    "http-404": "Visma har ikke dokumentet (404)",
    "http-409": "Visma melder en konflikt (409)",
    "http-412": "Dokumentet er endret i Visma siden det ble lest (412)",
    "http-4xx": "Visma avviste forespørselen",
    "http-5xx": "Visma klarte ikke å svare på forespørselen",
    "outcome-unknown": "Ikke noe svar fra Visma: kontroller dokumentet der",
    "not-found": "Dokumentet som skal oppdateres, finnes ikke i Visma",
    "no-reference": "Dokumentet kan ikke slås opp i Visma",
    "already-created": "Dokumentet ble opprettet før, og er endret siden",
    "release-refused": "Visma avviste frigivelsen av dokumentet",
    "release-pending": "Frigivelsen sto fortsatt i kø i Visma da kjøringen gikk videre",
    "rate-limited": "Ikke sendt: Vismas grense for antall kall krevde for lang ventetid",
    "bad-answer": "Vismas svar var ikke det API-et lover",
    "number-assigned": "Visma ga dokumentet et annet nummer enn filen",
    "stopped": "Kjøringen ble stoppet før dette dokumentet ble sendt",
    # taking a run back
    "undo-changed": "Endret i Visma siden kjøringen: overlatt til en person",
    "undo-paid": "Betalt siden kjøringen: overlatt til en person",
    "undo-by-hand": "API-et kan ikke angre det: må gjøres manuelt i Visma",
    "undo-no-etag": "Om det er endret siden kjøringen, kan ikke avgjøres",
    "undo-unknown": "Kjøringen fikk ikke svar for det: kontroller i Visma",
    "undo-in-doubt": "En tidligere angring fikk ikke svar på et trinn: kontroller i Visma",
    "undo-partial": "Satt tilbake, men ikke alt slik det var",
    "undo-no-copy": "Journalen har ingen kopi fra før kjøringen",
    "undo-not-found": "Ikke lenger i Visma: det kan ikke settes tilbake",
    "undo-gone": "Ikke lenger i Visma: ingenting å angre",
    "undo-pending": "Visma var ikke ferdig med trinnet da angringen gikk videre",
}

STATUS_TITLES_NB: dict[str, str] = {
    "valid": "Gyldig: klar til sending",
    "written": "Skrevet til forespørselsfilen (ikke sendt)",
    "created": "Opprettet i Visma",
    "updated": "Oppdatert i Visma",
    "unchanged": "Allerede i Visma slik som i filen",
    "invalid": "Ugyldig: rett raden",
    "failed": "Avvist av Visma eller ikke sendt",
    "exists in Visma": "Finnes allerede i Visma (funnet ved nummer eller referanse)",
    "skipped": "Ikke sendt, med vilje (se meldingen)",
    "not sent": "Ikke sendt: kjøringen stoppet først",
    "unknown": "Sendt, men uten svar: kontroller i Visma",
}

MESSAGES_NB: dict[str, str] = {
    # reading the file (table notes and column warnings)
    "encoding": (
        "filen er ikke UTF-8; den ble lest som {encoding}: kontroller at bokstavene utenfor "
        "A-Z (æ ø å, ä ö, eller filens eget alfabet) ser riktige ut i resultatet"
    ),
    "hidden-sheet": "arket {sheet!r} er skjult i Excel; det ble lest",
    "hidden-sheet.others": "arbeidsboken har skjulte ark ({sheets}); de ble ikke lest",
    "hidden-column": (
        "kolonne {columns} er skjult i Excel; skjulte kolonner importeres som de andre"
    ),
    "hidden-column.many": (
        "kolonnene {columns} er skjult i Excel; skjulte kolonner importeres som de andre"
    ),
    "hidden-row": (
        "{count} rad ({rows}) er skjult i Excel, kanskje av et filter; "
        "skjulte rader importeres som de andre"
    ),
    "hidden-row.many": (
        "{count} rader ({rows}) er skjult i Excel, kanskje av et filter; "
        "skjulte rader importeres som de andre"
    ),
    "unknown-column.empty": (
        "kolonne {letter} {header!r} er ikke et felt i {doctype}; den er tom, så ingenting går tapt"
    ),
    "skipped-column": "kolonne {letter} {header!r} utelates, slik {source} sier",
    "mapping-unused": (
        "{rule} i {source} passer ikke til noen kolonne i denne filen; kontroller stavemåten"
    ),
    "other-sheet.header": (
        "kolonne {letter} {header!r} på arket {sheet!r} importeres ikke: overskriftsfeltene "
        "leses fra arket {other!r}"
    ),
    "other-sheet.line": (
        "kolonne {letter} {header!r} på arket {sheet!r} importeres ikke: linjefeltene "
        "leses fra arket {other!r}"
    ),
    # reading a cell
    "excel-error": ("cellen viser {error}, en feil i arbeidsbokens formel: rett den i Excel"),
    "control-character": (
        "cellen inneholder et usynlig kontrolltegn (som NUL) som ikke er tekst; "
        "filen er skadet eller ble eksportert feil: skriv inn verdien på nytt"
    ),
    "unmapped": (
        '{value!r} står ikke i {file} ([values."{target}"] i tilordningsfilen): '
        "legg den til der, eller rett verdien"
    ),
    "type.number": "forventet et tall, fikk {text!r}",
    "type.number-bool": "forventet et tall, fikk {value}",
    "type.number-cell": "forventet et tall, fikk en verdi av typen {kind}",
    "type.number-infinite": "forventet et tall",
    "type.number-signs": (
        "{text!r} har mer enn ett fortegn (minus foran eller bak, eller parentes), så "
        "om beløpet er negativt, blir en gjetning: skriv ett, for eksempel -1250, 1250- "
        "eller (1250)"
    ),
    "type.whole": "forventet et heltall, fikk {value}",
    "type.boolean": "forventet ja eller nei (true/false), fikk {text!r}",
    "type.boolean-number": "forventet ja eller nei, fikk et tall ({value})",
    "type.boolean-cell": "forventet ja eller nei, fikk en verdi av typen {kind}",
    "invalid-date": "{text!r} er ikke en dato; skriv den som 2025-01-31 eller 31.01.2025",
    "invalid-date.unreal": "{text!r} er ikke en virkelig dato",
    "invalid-date.serial": (
        "{value:g} er ikke en dato (som Excel-datotall er det utenfor gyldig område)"
    ),
    "invalid-date.number": "forventet en dato, fikk et tall ({value})",
    "invalid-date.cell": "forventet en dato, fikk en verdi av typen {kind}",
    "number-code": (
        "{header} {digits} er en tallcelle, og Excel fjerner innledende nuller fra tall "
        "(andre verdier ser ut som {example!r}); hvis det var {padded}, formater kolonnen "
        "som Tekst i Excel og skriv det inn på nytt"
    ),
    # checking a row against the schema
    "required": "{title} er tom; en verdi er påkrevd",
    "type": "forventet {types}, fikk {value!r}",
    "enum": "{value!r} er ikke tillatt; bruk en av: {allowed}",
    "format": "{value!r} har ikke gyldig format ({format})",
    "pattern": "{value!r} har ikke den forventede formen",
    "too-long": "er lengre enn {limit} tegn",
    "too-short": "er kortere enn {limit} tegn",
    "too-small": "{value!r} er under minsteverdien {limit}",
    "too-large": "{value!r} er over maksimumsverdien {limit}",
    "incomplete": "raden mangler ett av feltene den trenger",
    "const": "{value!r} er ikke tillatt; verdien må være {expected!r}",
    "multiple-of": "{value!r} er ikke et multiplum av {step}",
    "not": "{value!r} er ikke tillatt",
    "schema": "{detail}",  # jsonschema's own words
    "x-message": "{text}",  # the document type's own words
    # checks the document type declares (importer.checks)
    "control-total.line": ("{title} {value} stemmer ikke med linjen: {formula} = {expected}"),
    "control-total.amount": ("{title} {value} stemmer ikke med {amount} {given} på samme linje"),
    "control-total.discount": (
        "{title} {value} er ikke {percent} % av {gross} ({expected}); oppgi rabatten "
        "på én måte, eller få de to til å stemme"
    ),
    "control-total.no-basis": (
        "{title} {value} er bare en kontrollsum som ikke sendes til Visma, og linjen har "
        "ingen {missing} å kontrollere den mot, så beløpet ville gått tapt: fyll ut "
        "{missing}, eller før beløpet i {amount} for å importere det"
    ),
    "control-total.no-basis-plain": (
        "{title} {value} er bare en kontrollsum som ikke sendes til Visma, og linjen har "
        "ingen {missing} å kontrollere den mot, så beløpet ville gått tapt: fyll ut {missing}"
    ),
    "control-total.unchecked": (
        "{title} {value} ble ikke kontrollert: linjen har ingen {price}, så Visma bruker "
        "varens egen pris; fyll ut {price} for å få summen kontrollert"
    ),
    "control-total.document": (
        "{title} {value} stemmer ikke med summen av dokumentets {count} linjer, "
        "{expected} (eksklusiv mva.)"
    ),
    "control-total.document-unchecked": (
        "{title} {value} ble ikke kontrollert: linjen på rad {row} har verken beløp eller "
        "{quantity} og {price} å regne det ut fra"
    ),
    "not-before": "{title} {value} er før {than} {limit}",
    "not-before.refused": (
        "{title} {value} er før {than} {limit}; Visma avviser et slikt dokument"
    ),
    "negative": "{title} er negativ ({value})",
    "negative.invoice": (
        "{title} er negativ ({value}): for å kreditere kunden, bruk en kreditnota i stedet "
        "for en negativ fakturalinje"
    ),
    "negative.credit-note": (
        "{title} er negativ ({value}): linjene i en kreditnota er positive; for å belaste "
        "kunden, bruk en faktura eller en debetnota"
    ),
    "negative.debit-note": (
        "{title} er negativ ({value}): for å kreditere kunden, bruk en kreditnota i stedet "
        "for en negativ debetnotalinje"
    ),
    "negative.supplier": (
        "{title} er negativ ({value}): dokumenttypen gir fortegnet; for en kreditering "
        "fra leverandøren, bruk dokumenttypen CreditAdj med positive linjer"
    ),
    "negative.order": (
        "{title} er negativ ({value}): en innkjøpsordre bestiller et antall; Visma avviser "
        "et negativt antall"
    ),
    "emails.one": "{title} tar én e-postadresse, og cellen har {count}; behold én",
    # grouping rows into documents
    "missing-key": "{title} er tom; den sier hvilket dokument denne raden hører til",
    "missing-key.natural": (
        "et dokument av typen {doctype} uten nummer trenger {fields}, slik at det kan "
        "finnes i Visma og aldri opprettes to ganger; fyll ut ett av dem"
    ),
    "duplicate-key": (
        "{title} {value!r} står allerede på rad {first}; hvert dokument av typen {doctype} "
        "skal stå bare én gang"
    ),
    "duplicate-key.apart": (
        "{title} {value!r} kommer igjen her, atskilt fra radene {rows} over, med samme "
        "linje som rad {twin}: dette ser ut som samme {doctype} to ganger; behold én kopi "
        "(eller, hvis den virkelig har den linjen to ganger, samle linjene)"
    ),
    "duplicate-key.sheet": (
        "{title} {value!r} står allerede på rad {first} på arket {sheet!r}; "
        "hvert dokument av typen {doctype} har én rad der"
    ),
    "total-row": (
        "{title} {value} i sumraden er ikke summen av kolonnen over, {sum}: et tall kan "
        "ha blitt lest annerledes enn du mente, eller en rad mangler; selve sumraden "
        "importeres aldri"
    ),
    "total-row.agrees": (
        "rad {row} er en sumrad ({label!r}); beløpene stemmer med radene over, og den "
        "importeres ikke"
    ),
    "continuation-header": (
        "{title} er tom, så denne raden fortsetter {doctype} {document!r} over, men "
        "{field} er fylt ut: en rad som fortsetter et dokument, lar alle "
        "overskriftskolonnene stå tomme (et sortert eller filtrert ark ville knyttet den "
        "til feil {doctype}); fyll ut {title}, eller tøm {field}"
    ),
    "duplicate-key.content": (
        "dette dokumentet av typen {doctype} er det samme som det på rad {first}, linje "
        "for linje; hvert dokument av typen {doctype} skal stå bare én gang"
    ),
    "unknown-key": "{title} {value!r} står ikke på noen rad på arket {sheet!r}",
    "no-lines": (
        "ingen rad på arket {sheet!r} har {title} {value!r}; et dokument av typen {doctype} "
        "trenger minst én linje"
    ),
    "conflicting-header": (
        "{title} er {value!r} her, men {known!r} på rad {first} i samme dokument {document!r}"
    ),
    "document-invalid": ("ikke importert: rad {rows} i samme dokument {document!r} har feil"),
    "document-invalid.many": (
        "ikke importert: radene {rows} i samme dokument {document!r} har feil"
    ),
    # checking against the company in Visma (importer.company_checks)
    "unknown-reference": (
        "{value!r} er ikke blant firmaets {things} i Visma; de nærmeste: {closest}"
    ),
    "unknown-reference.by-name": (
        "{value!r} er ikke blant firmaets {things} i Visma; navnet ved siden av, "
        "{name!r}, er {thing} {match} der"
    ),
    "unknown-reference.segment": (
        "{value!r} er ikke en verdi i segment {segment} ({segment_title}) av firmaets "
        "underkontoer i Visma; de nærmeste: {closest}"
    ),
    "unknown-reference.no-segment": (
        "firmaets underkontoer i Visma har ikke noe segment {segment}; segmentene deres "
        "er {segments}"
    ),
    "closed-period": (
        "{title} {value} ligger i regnskapsperioden {period}, som er lukket i {ledger} "
        "i Visma; de nærmeste åpne periodene: {closest}"
    ),
    "name-mismatch": (
        "{value!r} er ikke navnet Visma har for {thing} {number}, {known!r}: kontroller "
        "{number_title}"
    ),
    "name-mismatch.elsewhere": (
        "{value!r} er ikke navnet Visma har for {thing} {number}, {known!r}, men navnet "
        "på {thing} {match}: kontroller {number_title}"
    ),
    "already-in-visma": (
        "{title} {value!r} finnes allerede i Visma, som {number}; en kjøring i "
        "create-modus oppretter det ikke på nytt"
    ),
    # sending
    "not-sent-stopped": "ikke sendt: kjøringen ble stoppet før dette dokumentet",
    "not-sent-at-once": "ikke sendt: kjøringen ble stoppet straks, før dette dokumentet",
    "not-sent-fatal": "ikke sendt: kjøringen stoppet etter en kritisk feil ({why})",
    "unknown-in-flight": (
        "sendt, og kjøringen ble stoppet før Visma svarte: kontroller i Visma om det "
        "finnes der før du importerer det på nytt (neste kjøring slår det opp)"
    ),
    "template-error": "malen {template} feilet på dette dokumentet: {detail}",
    "unchanged": "allerede i Visma slik det ble sendt før",
    "exists": ("allerede i Visma som {number} (funnet ved nummer eller referanse); ikke opprettet"),
    "bad-number": (
        "nummeret {number!r} kan ikke være et dokumentnummer (det ville endret "
        "adressen til forespørselen); ingenting ble sendt"
    ),
    "number-assigned": (
        "opprettet som {number}, ikke som {wanted}: Vismas nummerserie ga det sitt eget "
        "nummer selv om forespørselen ba om filens (overrideNumberSeries); "
        "tillat manuell nummerering i nummerserien, eller bruk Vismas nummer"
    ),
    "in-progress": (
        "under arbeid i kjøring {run}: en annen kjøring sender det nå; kjør denne filen "
        "på nytt når den kjøringen er ferdig"
    ),
    "unknown-deferred": "ikke noe klart svar ({detail}); slått opp ved slutten av kjøringen",
    "unknown-lookup": (
        "sendt, ikke noe klart svar, og oppslaget feilet også ({detail}): kontroller i "
        "Visma om det finnes der (neste kjøring slår det opp først)"
    ),
    "unknown-twice": (
        "sendt to ganger, ikke noe klart svar noen av gangene ({detail}): kontroller i "
        "Visma om det finnes der (neste kjøring slår det opp først)"
    ),
    "unknown-stopped": (
        "sendt, ikke noe klart svar, og kjøringen stoppet før det kunne slås opp: "
        "neste kjøring slår det opp først"
    ),
    "rate-limited": (
        "ikke sendt: Vismas grense for antall kall: prøv igjen etter {until} (Visma ba om "
        "å vente lenger enn --max-wait)"
    ),
    "bad-answer": "{detail}; ingenting mer ble sendt for dette dokumentet",
    "released": "frigitt: status {status}",
    "release-refused": (
        "opprettet som {number}, men frigivelsen feilet: {detail}; frigi det i Visma"
    ),
    "release-unknown": (
        "opprettet som {number}; hva som ble av frigivelsen, vet vi ikke ({detail}): "
        "kontroller i Visma at det er frigitt, og frigi det der hvis ikke"
    ),
    "release-pending": (
        "opprettet som {number}; frigivelsen sto fortsatt i kø i Visma etter {seconds} s "
        "(--release-wait), status {status}: kontroller i Visma at det er frigitt, og "
        "frigi det der hvis det blir stående som {status}"
    ),
    "created-late": "opprettet som {number} (Visma svarte sent; funnet ved et oppslag)",
    "refused-500": "Visma avviste det to ganger med samme feil: {detail}",
    "unknown-kept": (
        "en tidligere kjøring sendte det og fikk ikke svar, og det har ingenting det kan "
        "slås opp med i Visma: kontroller i Visma om det finnes der; hvis ikke, importer "
        "på nytt med --resend-unknown"
    ),
    "already-created": (
        "allerede opprettet som {number}; filen er endret siden (--mode update sender endringene)"
    ),
    "would-skip": (
        "allerede opprettet som {number}; filen er endret siden: en kjøring hopper over "
        "det (--mode update ville sendt endringene)"
    ),
    "written": "skrevet til {path}, ikke sendt",
    "written-update": (
        "skrevet til {path}, ikke sendt: en kjøring oppdaterer {number} (linjene slik Visma "
        "har dem, avgjør hvilke som settes inn, oppdateres eller slettes)"
    ),
    "written-lookup": (
        "skrevet til {path}, ikke sendt: en kjøring slår det først opp i Visma ved nummer "
        "eller referanse, og oppdaterer det hvis det finnes der"
    ),
    "written-interrupted": (
        "skrevet til {path}, ikke sendt: en tidligere kjøring ble stoppet mens den sendte "
        "det; en kjøring slår det først opp i Visma og sender det bare hvis det ikke "
        "finnes der"
    ),
    "internal-error": (
        "vnimport feilet under sendingen av dette dokumentet ({detail}); kontroller i "
        "Visma om det finnes der før du importerer det på nytt"
    ),
    # taking a run back (importer.undo.run)
    "undo-done.deleted": "slettet",
    "undo-done.reversed": "reversert med {note_title} {note}, frigitt",
    "undo-done.voided": "annullert",
    "undo-done.inactivated": "satt inaktiv (API-et kan ikke slette en {title})",
    "undo-done.restored": "satt tilbake slik Visma viste det før kjøringen",
    "undo-done.restored-unseen": (
        "satt tilbake slik Visma viste det før kjøringen; {fields}: Visma viser det ikke, "
        "så det blir stående slik kjøringen sendte det"
    ),
    "undo-would.delete": "ville slettet det",
    "undo-would.reverse": "ville reversert det med en {note_title}, og frigitt den",
    "undo-would.release": (
        "ville frigitt {note_title} {note}, som en tidligere angring laget for å reversere det"
    ),
    "undo-would.void": "ville annullert det",
    "undo-would.inactivate": "ville satt det inaktivt (API-et kan ikke slette en {title})",
    "undo-would.restore": "ville satt tilbake {fields} slik Visma viste dem før kjøringen",
    "undo-nothing": "kjøringen etterlot det med status {status}",
    "undo-nothing.already": "det har allerede status {status}",
    "undo-gone": "det finnes ikke lenger i Visma",
    "undo-earlier": "{message} (av en tidligere angring; ingenting gjort nå)",
    "undo-stopped": "ikke angret: angringen ble stoppet før det",
    "undo-changed": (
        "endret i Visma siden kjøringen (ETag-en er ikke den kjøringen fikk): latt være "
        "som det er. {by_hand}"
    ),
    "undo-changed.release": (
        "endret i Visma siden kjøringen, kanskje bare av frigivelsen kjøringen lot stå i kø "
        "(--release-wait): latt være som det er. {by_hand}"
    ),
    "undo-paid": (
        "betalt siden kjøringen (saldo {balance} av {amount}): latt være som det er. {by_hand}"
    ),
    "undo-by-hand": "status {status}: API-et kan ikke angre det. {by_hand}",
    "undo-by-hand.type": (
        "vnimport vet ikke hvordan et dokument av typen {doctype} angres (typen har ingen "
        "x-undo, eller "
        "finnes ikke her: oppgi --types-dir): angre det manuelt i Visma"
    ),
    "undo-no-etag": (
        "Visma ga ikke kjøringen noen ETag for det, så om det er endret siden, kan ikke "
        "avgjøres: latt være som det er. {by_hand}"
    ),
    "undo-unknown": (
        "kjøringen sendte det og fikk ikke svar: kontroller i Visma om det finnes der, og "
        "angre det manuelt hvis det gjør det. {by_hand}"
    ),
    "undo-in-doubt": (
        "en tidligere angring ba Visma reversere det, og hva Visma svarte, er ukjent: "
        "se i Visma etter en {note_title} som reverserer det, og frigi den; finnes det "
        "ingen, reverser det manuelt"
    ),
    "undo-partial": (
        "satt tilbake, men {fields} avviker fortsatt fra kopien journalen tok vare på fra "
        "før kjøringen: sett dem manuelt i Visma"
    ),
    "undo-no-copy": (
        "journalen har ingen kopi av det fra før kjøringen, så det kan ikke settes "
        "tilbake. {by_hand}"
    ),
    "undo-not-found": (
        "det finnes ikke lenger i Visma, så det kan ikke settes tilbake (journalen har "
        "kopien fra før kjøringen: `vnimport runs show`). {by_hand}"
    ),
    "undo-pending": (
        "Visma var ikke ferdig med trinnet {step} etter {seconds} s: kjør angre på nytt "
        "for å se det fullført"
    ),
    "undo-refused": "Visma avviste trinnet {step} for det: {detail}",
    "undo-note-failed": (
        "reversert med {note_title} {note}, men frigivelsen av den feilet ({detail}): "
        "frigi den i Visma, eller kjør angre på nytt"
    ),
}
