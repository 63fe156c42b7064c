"""Domain vocabularies. Values are the Danish codes stored in the database."""

from enum import StrEnum


class Paragraph(StrEnum):
    SEL107 = "SEL107"
    SEL108 = "SEL108"
    ABL105 = "ABL105"


class ProviderKind(StrEnum):
    PRIVATE = "privat"
    SELF_GOVERNING = "selvejende"
    MUNICIPAL = "kommunal"
    REGIONAL = "regional"
    OWN = "egen"


class FrameworkAgreement(StrEnum):
    NONE = "ingen"
    FRAMEWORK = "rammeaftale"
    COOPERATION = "samarbejdsaftale"


class NoteTopic(StrEnum):
    QUALITY = "kvalitet"
    COOPERATION = "samarbejde"
    NEGOTIATION = "forhandling"
    SUPERVISION = "tilsyn"
    OTHER = "andet"


class PriceUnit(StrEnum):
    DAY = "dag"
    MONTH = "maaned"
    YEAR = "aar"


class RegulationKind(StrEnum):
    FIXED_PCT = "fast_pct"
    INDEX = "indeks"
    NONE = "ingen"


class ContractStatus(StrEnum):
    DRAFT = "kladde"
    ACTIVE = "aktiv"
    TERMINATED = "opsagt"
    ENDED = "afsluttet"


class NightCover(StrEnum):
    AWAKE = "vaagen"
    SLEEPING = "sovende"
    NONE = "ingen"


class PriceCategory(StrEnum):
    LOW = "lav"
    MEDIUM = "middel"
    HIGH = "hoej"
    EXTRAORDINARY = "ekstraordinaer"


class NoCategory(StrEnum):
    """Why a price has no category: shown as such, never guessed (SPEC 4.4)."""

    NO_SET = "ingen"  # no price category set for the paragraph and year
    MISSING_RATE = "mangler"  # the price needs an index rate that is not registered


class AlertKind(StrEnum):
    """The contract alerts of SPEC 4.6 (their rules: services.rules.alerts)."""

    NOTICE = "opsigelse"
    RENEGOTIATION = "genforhandling"
    FOLLOW_UP = "opfoelgning"
    DEVIATION = "afvigelse"
    CATEGORY = "kategori"
    CHECKLIST = "tjekliste"


class PriceChangeReason(StrEnum):
    RENEGOTIATION = "genforhandling"
    CHANGED_SUPPORT_NEED = "aendret_stoettebehov"
    OTHER = "andet"


class InvoiceStatus(StrEnum):
    NEW = "ny"
    INVESTIGATING = "undersoeges"
    PROVIDER_CONTACTED = "leverandoer_kontaktet"
    RESOLVED = "loest"
    ACCEPTED = "accepteret"


# An invoice, or a credit note that corrects one (its amount is negative).
class InvoiceKind(StrEnum):
    INVOICE = "faktura"
    CREDIT_NOTE = "kreditnota"


OPEN_INVOICE_STATUSES = (
    InvoiceStatus.NEW,
    InvoiceStatus.INVESTIGATING,
    InvoiceStatus.PROVIDER_CONTACTED,
)


class FollowUpKind(StrEnum):
    MEETING = "moede"
    STATUS_REPORT = "statusrapport"
    SUPERVISION_VISIT = "tilsynsbesoeg"
    PHONE = "telefon"


class Progression(StrEnum):
    PROGRESS = "fremgang"
    UNCHANGED = "uaendret"
    REGRESSION = "tilbagegang"


class SupportNeedChange(StrEnum):
    UP = "op"
    DOWN = "ned"
    UNCHANGED = "uaendret"


class FollowUpAction(StrEnum):
    CONTINUE = "fortsaet"
    RENEGOTIATE = "genforhandl"
    MOVE = "flyt"
    TERMINATE = "opsig"


class GoalType(StrEnum):
    DEVELOP = "udvikle"
    MAINTAIN = "fastholde"
    LIMIT_LOSS = "begraense_tab"


class GoalStatus(StrEnum):
    ACTIVE = "aktiv"
    ACHIEVED = "opnaaet"
    NOT_ACHIEVED = "ikke_opnaaet"
    ABANDONED = "opgivet"


class Role(StrEnum):
    """What a user may do (SPEC 8); each role may do everything the ones before it may."""

    READER = "laeser"
    COORDINATOR = "koordinator"
    PROCUREMENT = "indkoeb"
    ADMIN = "admin"


# Danish labels shown in the UI for every stored value.
LABELS: dict[str, str] = {
    "laeser": "Læser",
    "koordinator": "Koordinator",
    "indkoeb": "Indkøb",
    "admin": "Administrator",
    "SEL107": "§107 midlertidigt botilbud",
    "SEL108": "§108 længerevarende botilbud",
    "ABL105": "§105 almen bolig + §85",
    "privat": "Privat",
    "selvejende": "Selvejende",
    "kommunal": "Kommunal",
    "regional": "Regional",
    "egen": "Egen drift",
    "rammeaftale": "Rammeaftale",
    "samarbejdsaftale": "Samarbejdsaftale",
    "kvalitet": "Kvalitet",
    "samarbejde": "Samarbejde",
    "forhandling": "Forhandling",
    "tilsyn": "Tilsyn",
    "andet": "Andet",
    "dag": "pr. dag",
    "maaned": "pr. måned",
    "aar": "pr. år",
    "fast_pct": "Fast procent",
    "indeks": "Indeks (reguleringssats)",
    "kladde": "Kladde",
    "aktiv": "Aktiv",
    "opsagt": "Opsagt",
    "afsluttet": "Afsluttet",
    "vaagen": "Vågen nattevagt",
    "sovende": "Sovende nattevagt",
    "lav": "Lav",
    "middel": "Middel",
    "hoej": "Høj",
    "ekstraordinaer": "Ekstraordinær",
    "genforhandling": "Genforhandling",
    "aendret_stoettebehov": "Ændret støttebehov",
    "ny": "Ny",
    "undersoeges": "Undersøges",
    "leverandoer_kontaktet": "Leverandør kontaktet",
    "loest": "Løst",
    "accepteret": "Accepteret",
    "faktura": "Faktura",
    "kreditnota": "Kreditnota",
    "moede": "Møde",
    "statusrapport": "Statusrapport",
    "tilsynsbesoeg": "Tilsynsbesøg",
    "telefon": "Telefon",
    "fremgang": "Fremgang",
    "uaendret": "Uændret",
    "tilbagegang": "Tilbagegang",
    "op": "Op",
    "ned": "Ned",
    "fortsaet": "Fortsæt",
    "genforhandl": "Genforhandl",
    "flyt": "Flyt",
    "opsig": "Opsig",
    "udvikle": "Udvikle",
    "fastholde": "Fastholde",
    "begraense_tab": "Begrænse tab",
    "opnaaet": "Opnået",
    "ikke_opnaaet": "Ikke opnået",
    "opgivet": "Opgivet",
}

# Some codes are shared between vocabularies with different meanings in context.
CONTEXT_LABELS: dict[tuple[str, str], str] = {
    ("framework", "ingen"): "Ingen aftale",
    ("night_cover", "ingen"): "Ingen nattevagt",
    ("regulation", "ingen"): "Ingen regulering",
    ("category", "ingen"): "Ingen kategori",
    ("category", "mangler"): "Mangler reguleringssats",
    # A paragraph in a narrow table column.
    ("short", "SEL107"): "§107",
    ("short", "SEL108"): "§108",
    ("short", "ABL105"): "§105",
}


def label(value: object, context: str | None = None) -> str:
    """The Danish label for a stored code (the code itself if none is known)."""
    if value is None:
        return ""
    code = str(value)
    if context and (context, code) in CONTEXT_LABELS:
        return CONTEXT_LABELS[(context, code)]
    return LABELS.get(code, code)
