"""Fictitious Danish names and texts for the demo data. Nothing here describes a real person."""

from decimal import Decimal

from models.enums import NoteTopic, Paragraph, PriceUnit, ProviderKind

# Place-like stems for provider and offer names; combined with a prefix they are unique.
NAME_STEMS = (
    "Egelunden",
    "Kildebakken",
    "Fjordglimt",
    "Lærkereden",
    "Skovbrynet",
    "Solsikken",
    "Bakkehuset",
    "Engkanten",
    "Åbrinken",
    "Lindely",
    "Havblik",
    "Møllegården",
    "Rosenhaven",
    "Granly",
    "Birkely",
    "Bøgely",
    "Søholm",
    "Stenhøj",
    "Kastanjegården",
    "Hyldebo",
    "Pilehuset",
    "Tranebo",
    "Mosegården",
    "Klitgården",
    "Vibeholm",
    "Ravnsborg",
    "Lyngbakken",
    "Elmehøj",
    "Nøddehaven",
    "Kløvermarken",
    "Agerhuset",
    "Strandlyst",
    "Udsigten",
    "Fyrrebakken",
    "Ahornhuset",
    "Hasselgården",
    "Tjørnely",
    "Mågereden",
    "Svanereden",
    "Stjerneskuddet",
    "Regnbuen",
    "Fuglsang",
    "Valmuen",
    "Blåbærhuset",
    "Kirsebærhaven",
    "Æblehaven",
    "Rønnebo",
    "Pæretræet",
    "Kornblomsten",
    "Hedebo",
    "Markhuset",
    "Ådalen",
    "Bækkelund",
    "Solgården",
    "Nordlyset",
    "Vesterled",
    "Østerbo",
    "Sønderly",
    "Midtgården",
    "Højvang",
    "Lundehuset",
    "Tangen",
    "Næsset",
    "Holmen",
    "Bakkely",
    "Dalgården",
    "Kildevang",
    "Skovly",
    "Engly",
    "Højbo",
    "Sneglehuset",
    "Grønnegården",
)

NAME_PREFIXES: dict[ProviderKind, tuple[str, ...]] = {
    ProviderKind.PRIVATE: ("Bostedet", "Opholdsstedet", "Botilbuddet", "Hjemmet"),
    ProviderKind.SELF_GOVERNING: ("Den selvejende institution", "Bofællesskabet", "Fonden"),
    ProviderKind.MUNICIPAL: ("Botilbud", "Bocenter", "Boligerne"),
    ProviderKind.REGIONAL: ("Specialbotilbuddet", "Regionens botilbud"),
    ProviderKind.OWN: ("Egen drift: Bocenter", "Egen drift: Botilbuddet", "Egen drift: Boligerne"),
}

DEMO_SUFFIX = " (demo)"

# Real towns with their postal codes; the providers in them are invented.
TOWNS = (
    ("8000", "Aarhus C"),
    ("8600", "Silkeborg"),
    ("8700", "Horsens"),
    ("7100", "Vejle"),
    ("8900", "Randers C"),
    ("8800", "Viborg"),
    ("7400", "Herning"),
    ("6000", "Kolding"),
    ("5000", "Odense C"),
    ("4000", "Roskilde"),
    ("9000", "Aalborg"),
    ("8660", "Skanderborg"),
    ("8300", "Odder"),
    ("8500", "Grenaa"),
    ("7500", "Holstebro"),
    ("6700", "Esbjerg"),
    ("4700", "Næstved"),
    ("3400", "Hillerød"),
    ("4200", "Slagelse"),
    ("8400", "Ebeltoft"),
    ("8680", "Ry"),
    ("8740", "Brædstrup"),
    ("8850", "Bjerringbro"),
    ("8240", "Risskov"),
    ("8260", "Viby J"),
    ("7000", "Fredericia"),
    ("8450", "Hammel"),
    ("8370", "Hadsten"),
    ("8410", "Rønde"),
    ("8550", "Ryomgård"),
    ("7300", "Jelling"),
    ("8653", "Them"),
)

OFFER_UNITS = (
    "Huset",
    "Lejlighederne",
    "Afdeling Nord",
    "Afdeling Syd",
    "Udslusningen",
    "Skærmet enhed",
    "Bofællesskabet",
    "Akutpladserne",
    "Pavillonerne",
    "Gården",
)

STREETS = (
    "Lærkevej",
    "Birkevej",
    "Skovvej",
    "Engvej",
    "Kirkevej",
    "Møllevej",
    "Bøgevej",
    "Søndergade",
    "Vestergade",
    "Nørregade",
    "Rosenvænget",
    "Kastanjeallé",
)

TARGET_GROUPS = (
    "Udviklingshæmning",
    "Psykiatri",
    "Autisme",
    "Erhvervet hjerneskade",
    "Misbrug",
    "Dobbeltdiagnose",
    "Fysisk funktionsnedsættelse",
    "ADHD",
    "Hjemløshed",
)

# Staff of the fictitious working group (first name and initial).
STAFF = (
    "Mette K.",
    "Anders L.",
    "Sofie H.",
    "Jonas B.",
    "Line P.",
    "Kasper T.",
    "Rikke D.",
    "Henrik S.",
    "Camilla N.",
    "Peter Ø.",
)

ASSESSMENT_QUALITY = (
    "Stabil personalegruppe og lav personaleomsætning",
    "Socialtilsynet vurderer kvaliteten som god",
    "Enkelte udfordringer med dokumentation af indsatsen",
    "Meget struktureret hverdag med tydelige rammer",
    "Gode fysiske rammer tæt på by og offentlig transport",
    "Tidligere høj udskiftning i ledelsen, nu stabiliseret",
)
ASSESSMENT_EDUCATION = (
    "overvejende pædagoger og social- og sundhedsassistenter",
    "høj andel uddannet personale (ca. 80 %)",
    "blandet personalegruppe; flere ufaglærte i weekender",
    "sygeplejerske tilknyttet i dagtimerne",
    "socialrådgivere og pædagoger med efteruddannelse i psykiatri",
)
ASSESSMENT_METHODS = (
    "Low arousal og KRAP",
    "recovery-orienteret tilgang",
    "TEACCH og struktureret pædagogik",
    "mentaliseringsbaseret tilgang",
    "neuropædagogik",
    "motiverende samtale",
    "Housing First og bostøtte",
)

NOTE_TEXTS: dict[NoteTopic, tuple[str, ...]] = {
    NoteTopic.QUALITY: (
        "Tilsynsrapporten er positiv; personalet har relevante uddannelser.",
        "Borgerne fremhæver en rolig hverdag og faste kontaktpersoner.",
        "Dokumentationen i handleplanerne er mangelfuld; taget op på dialogmøde.",
        "Har indført faste ugentlige aktiviteter – godt modtaget.",
        "Høj faglighed i forhold til målgruppen; anbefales til lignende sager.",
        "Mange vikarer i sommerperioden gav uro; leverandøren har lagt en plan.",
        "Stabil personalegruppe; samme kontaktperson i flere år.",
    ),
    NoteTopic.COOPERATION: (
        "Godt samarbejde om handleplan; svarer hurtigt på henvendelser.",
        "Sender statusrapporter til tiden og i god kvalitet.",
        "Langsom til at vende tilbage på mails – aftalt fast kontaktperson.",
        "Deltager konstruktivt i opfølgningsmøder og kommer med forslag.",
        "Fakturaerne er tydelige og følger kontraktens specifikation.",
        "Har selv gjort opmærksom på en fejl i en faktura og sendt kreditnota.",
        "Svært at få svar i ferieperioder; aftalt stedfortræder.",
    ),
    NoteTopic.NEGOTIATION: (
        "Villig til at forhandle ved flere pladser; gav 5 % rabat ved tre borgere.",
        "Ønskede prisstigning over 2 % – afvist med henvisning til kontrakten.",
        "Prisen genforhandlet efter nedsat støttebehov; aftale på plads på ét møde.",
        "Vil ikke specificere tillægsydelser – kræver opfølgning fra indkøb.",
        "Accepterede standardkontrakt uden ændringer.",
        "Tilbød fast pris på 12 måneder mod længere opsigelsesvarsel.",
    ),
    NoteTopic.SUPERVISION: (
        "Socialtilsynet har afsluttet skærpet tilsyn; ingen påbud.",
        "Påbud om bedre dokumentation af medicinhåndtering; følges ved næste besøg.",
        "Uanmeldt tilsyn uden bemærkninger.",
        "Tilsynet anbefaler mere kompetenceudvikling i målgruppens problematikker.",
        "Godkendelsen er udvidet med to pladser.",
    ),
    NoteTopic.OTHER: (
        "Ny forstander fra årsskiftet.",
        "Afdelingen flytter til nye lokaler i foråret.",
        "Har ledige pladser; kontakt forstanderen direkte.",
        "Venteliste på ca. tre måneder.",
        "Har oprettet en ny skærmet enhed med fire pladser.",
    ),
}

# Daily list rates (kr./dag at today's level): low, mode, high per paragraph.
RATE_RANGES: dict[Paragraph, tuple[int, int, int]] = {
    Paragraph.SEL107: (1900, 2700, 5600),
    Paragraph.SEL108: (1700, 2400, 5200),
    Paragraph.ABL105: (1100, 1450, 2900),
}
EXTRAORDINARY_RANGE = (8000, 11500)

# This year's price-category thresholds (middel, høj, ekstraordinær), kr./dag.
CATEGORY_THRESHOLDS: dict[Paragraph, tuple[int, int, int]] = {
    Paragraph.SEL107: (2600, 3600, 5000),
    Paragraph.SEL108: (2200, 3200, 4500),
    Paragraph.ABL105: (1400, 2000, 2800),
}

# Index rates (pris- og lønfremskrivning, percent) by year; other years use the fallback.
INDEX_RATES: dict[int, str] = {
    2008: "3.1",
    2009: "2.4",
    2010: "1.6",
    2011: "1.9",
    2012: "1.8",
    2013: "1.5",
    2014: "1.3",
    2015: "1.2",
    2016: "1.4",
    2017: "1.6",
    2018: "1.7",
    2019: "1.9",
    2020: "1.8",
    2021: "2.1",
    2022: "3.9",
    2023: "4.3",
    2024: "2.6",
    2025: "2.1",
    2026: "2.3",
    2027: "2.2",
    2028: "2.0",
}
INDEX_RATE_FALLBACK = "2.0"

CONTRACT_INCLUDED = (
    "Bolig, kost og døgnbemanding",
    "Pædagogisk støtte efter handleplan",
    "Medicinhåndtering og kontakt til egen læge",
    "Støtte til personlig hygiejne og praktiske opgaver",
    "Deltagelse i husets fælles aktiviteter",
    "Fast kontaktperson og ugentlig samtale",
    "Støtte til økonomi og post",
)
CONTRACT_EXCLUDED = (
    "Husleje, el og varme (betales af borgeren)",
    "Ledsagelse til ferie",
    "Transport til dagtilbud",
    "Beskæftigelse og dagtilbud (§103/§104)",
    "Tøj og personlige fornødenheder",
    "Tandlæge og fysioterapi",
    "Fritidsaktiviteter ud over husets egne",
)
ABL105_INCLUDED = (
    "Bostøtte efter §85 i det aftalte timetal",
    "Støtte til praktiske opgaver og økonomi",
    "Tilkaldemulighed i dagtimerne",
    "Fællesspisning to gange om ugen",
)
ABL105_EXCLUDED = (
    "Husleje og forbrug (borgerens egen lejekontrakt)",
    "Kost",
    "Nattevagt",
    "Ledsagelse uden for aftalt støttetid",
)

NOTICE_TEXTS = (
    "Gensidigt opsigelsesvarsel på {days} dage til udgangen af en måned.",
    "Kommunen kan opsige med {days} dages varsel; leverandøren med seks måneders varsel.",
    "Opsigelse skriftligt med {days} dages varsel. Ved dødsfald ophører aftalen straks.",
    "{days} dages varsel; ved akut flytning betales højst 30 dage.",
)

CONTRACT_NOTES = (
    "Udslusningsforløb planlagt; prisen genforhandles ved flytning til egen bolig.",
    "Prisen omfatter fast kontaktperson to timer dagligt.",
    "Aftalt ekstra opfølgning efter tre måneder.",
    "Kontrakten er indgået på kommunens standardkontrakt.",
    "Leverandøren har leveret ydelsesbeskrivelse og handleplan.",
    "Borgeren er flyttet fra et midlertidigt tilbud efter udredning.",
)

# Add-on services: name, price at today's level, unit.
ADDONS = (
    ("Ekstra støtte 1:1 10 t/uge", Decimal("4500.00"), PriceUnit.MONTH),
    ("Ledsagelse til behandling og aftaler", Decimal("2200.00"), PriceUnit.MONTH),
    ("Særlig kost", Decimal("45.00"), PriceUnit.DAY),
    ("Vågen nattevagt (ekstra)", Decimal("650.00"), PriceUnit.DAY),
    ("Fritids- og ferieaktiviteter", Decimal("12000.00"), PriceUnit.YEAR),
    ("Støtte til beskæftigelse 5 t/uge", Decimal("2600.00"), PriceUnit.MONTH),
    ("Ekstra støtte 1:1 20 t/uge", Decimal("9000.00"), PriceUnit.MONTH),
)

PRICE_CHANGE_NOTES = {
    "down": (
        "Genforhandlet ved opfølgning: færre timer med 1:1-støtte.",
        "Prisnedsættelse efter ændret bemanding om natten (vågen til sovende).",
        "Genforhandlet ved samlet aftale om flere pladser.",
        "Nedsat støttebehov; aftalt færre timer pr. uge.",
    ),
    "up": (
        "Øget støttebehov efter revurdering; ekstra timer aftalt.",
        "Ændret støttebehov: behov for vågen nattevagt.",
        "Flytning til skærmet enhed med højere normering.",
    ),
}

FOLLOWUP_NOTES = {
    "fremgang": (
        "Borgeren trives og når flere af målene i handleplanen.",
        "God udvikling; mere selvhjulpen i hverdagen.",
        "Deltager nu selv i husets aktiviteter.",
    ),
    "uaendret": (
        "Stabil periode; handleplanen følges.",
        "Ingen væsentlige ændringer siden sidst.",
        "Indsatsen fortsætter uændret.",
    ),
    "tilbagegang": (
        "Urolig periode; der er aftalt ekstra støtte om aftenen.",
        "Borgeren har trukket sig fra fællesskabet; indsatsen justeres.",
        "Flere konflikter i huset; nyt møde om tre måneder.",
    ),
}

# SMART goals per VUM theme: (text, how it is measured).
GOAL_TEXTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Praktiske opgaver i hjemmet": (
        (
            "Tømmer selv opvaskemaskinen tre dage om ugen.",
            "Registreres i ugeskema; nået ved 10 af 12 uger.",
        ),
        (
            "Vasker selv tøj én gang om ugen med verbal støtte.",
            "Kontaktpersonen noterer ugentligt.",
        ),
        ("Handler ind efter egen indkøbsseddel hver fredag.", "Afkrydses i kalenderen."),
    ),
    "Egenomsorg": (
        ("Går selv i bad to gange om ugen med påmindelse.", "Registreres dagligt af personalet."),
        (
            "Står op og spiser morgenmad inden kl. 9 på hverdage.",
            "Nået ved fire ud af fem hverdage i to måneder.",
        ),
    ),
    "Kommunikation": (
        (
            "Bruger piktogramtavlen til at vælge aftensmad hver dag.",
            "Registreres i dagbogen; nået ved 80 % af dagene.",
        ),
        (
            "Siger selv til, når noget er svært, i stedet for at gå.",
            "Drøftes på ugentlig samtale; nået ved tre ud af fire uger.",
        ),
    ),
    "Mobilitet": (
        (
            "Tager selv bussen til dagtilbuddet to dage om ugen.",
            "Kontaktpersonen følger op hver fredag.",
        ),
        ("Går en tur på 20 minutter tre gange om ugen.", "Skridttæller og ugeskema."),
    ),
    "Samfundsliv": (
        ("Deltager i beskæftigelsestilbud tre timer om ugen.", "Fremmøde registreres."),
        (
            "Betaler selv faste regninger via netbank med støtte.",
            "Gennemgås månedligt med kontaktpersonen.",
        ),
    ),
    "Socialt liv": (
        ("Deltager i fællesspisning mindst én gang om ugen.", "Registreres i huset."),
        ("Har kontakt med familien hver anden uge.", "Borgerens egen kalender."),
        (
            "Deltager i en fritidsaktivitet uden for huset hver måned.",
            "Noteres ved månedlig samtale.",
        ),
    ),
    "Sundhed": (
        (
            "Tager selv medicin fra doseringsæske med dagligt tjek.",
            "Registreres i medicinskemaet; nået ved 95 % af dagene.",
        ),
        ("Spiser tre faste måltider om dagen.", "Madplan og registrering i fire uger."),
    ),
}
GOAL_TEXTS_FALLBACK = (
    ("Deltager aktivt i planlægningen af egen uge.", "Drøftes ved ugentlig samtale."),
)

DEVIATION_NOTES = {
    "regulering": "Fakturaen er reguleret med {invoiced_pct} i stedet for aftalte {agreed_pct}.",
    "tillaeg": "Tillæg for ledsagelse faktureret uden aftale ({amount}).",
    "dage": "Faktureret for flere dage end kontrakten dækker ({days} dage for meget).",
    "gammel_pris": "Leverandøren fakturerer fortsat prisen fra før genforhandlingen.",
}
DEVIATION_STEP_NOTES = {
    "undersoeges": (
        "Kontrakt og prisbilag gennemgået.",
        "Sammenholdt med kontraktens reguleringsvilkår.",
        "Tjekket mod tidligere fakturaer.",
    ),
    "leverandoer_kontaktet": (
        "Mail sendt til leverandøren med anmodning om kreditnota.",
        "Ringet til leverandørens bogholderi; de undersøger sagen.",
        "Leverandøren bedt om at redegøre for beregningen.",
    ),
}
RESOLUTION_NOTES = {
    "loest": (
        "Kreditnota modtaget og bogført.",
        "Leverandøren har rettet reguleringen; differencen modregnes på næste faktura.",
        "Fejl i leverandørens system; rettet og krediteret.",
    ),
    "accepteret": (
        "Accepteret: tillægget var aftalt mundtligt; kontrakten opdateres.",
        "Accepteret efter dialog; beløbet indgår i genforhandlingen.",
        "Accepteret: ekstra ydelse godkendt af myndighed efterfølgende.",
    ),
}
