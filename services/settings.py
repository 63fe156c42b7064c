"""The working group's defaults (SPEC 4), stored in the Setting table as text."""

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from models import Setting
from models.types import clean_text, parse_decimal
from services.cpr import CPR_MESSAGE, contains_cpr
from services.errors import ConflictError, InputError
from services.formatting import format_number
from services.rules.alerts import AlertHorizons
from services.rules.cadence import Cadence
from services.rules.weighing import PARAMETERS, check_weights
from services.unit_of_work import action, flush

DEFAULT_VUM_THEMES = (
    "Praktiske opgaver i hjemmet",
    "Egenomsorg",
    "Kommunikation",
    "Mobilitet",
    "Samfundsliv",
    "Socialt liv",
    "Sundhed",
)


@dataclass(frozen=True)
class AppSettings:
    """Every configurable default, typed."""

    regulation_default_pct: Decimal = Decimal("2.00")
    tolerance_kr: Decimal = Decimal("1.00")
    tolerance_pct: Decimal = Decimal("0.0")
    followup_first_months: int = 3
    followup_sel107_months: int = 3
    followup_sel108_months: int = 12
    followup_abl105_months: int = 12
    followup_high_max_months: int = 6
    alert_renegotiation_days: int = 60
    alert_notice_days: int = 90
    vat_refund_pct: Decimal = Decimal("4.6")
    large_case_threshold: Decimal = Decimal("1000000.00")
    max_active_goals: int = 3
    # Plausibility: above these a save asks the user to confirm the amount (SPEC 3, issue 10).
    plausible_daily_rate: Decimal = Decimal("50000.00")
    plausible_monthly_price: Decimal = Decimal("1500000.00")
    plausible_invoice_factor: Decimal = Decimal("3")
    vum_themes: tuple[str, ...] = DEFAULT_VUM_THEMES
    # Comparing offers (SPEC 4.8, 10): the free-choice limit and the default weights (sum 100).
    free_choice_limit_pct: Decimal = Decimal("10")
    weight_knowledge: int = 20
    weight_methods: int = 20
    weight_negotiation: int = 10
    weight_transparency: int = 15
    weight_geography: int = 10
    weight_price: int = 25

    @property
    def weights(self) -> dict[str, Decimal]:
        """The default weight of each parameter (services.rules.weighing.PARAMETERS)."""
        return {key: Decimal(getattr(self, f"weight_{key}")) for key in PARAMETERS}

    @property
    def cadence(self) -> Cadence:
        return Cadence(
            first_months=self.followup_first_months,
            sel107_months=self.followup_sel107_months,
            sel108_months=self.followup_sel108_months,
            abl105_months=self.followup_abl105_months,
            high_category_max_months=self.followup_high_max_months,
        )

    @property
    def horizons(self) -> AlertHorizons:
        return AlertHorizons(
            renegotiation_days=self.alert_renegotiation_days, notice_days=self.alert_notice_days
        )


# Danish label and allowed range of each numeric setting, for the settings screen and validation.
SETTING_LIMITS: dict[str, tuple[str, Decimal, Decimal]] = {
    "regulation_default_pct": ("Standardregulering (%)", Decimal(-10), Decimal(20)),
    "tolerance_kr": ("Tolerance (kr.)", Decimal(0), Decimal(100000)),
    "tolerance_pct": ("Tolerance (%)", Decimal(0), Decimal(50)),
    "followup_first_months": ("Første opfølgning (måneder efter start)", Decimal(1), Decimal(24)),
    "followup_sel107_months": ("Opfølgning §107 (måneder)", Decimal(1), Decimal(24)),
    "followup_sel108_months": ("Opfølgning §108 (måneder)", Decimal(1), Decimal(24)),
    "followup_abl105_months": ("Opfølgning §105 (måneder)", Decimal(1), Decimal(24)),
    "followup_high_max_months": (
        "Højst måneder ved høj/ekstraordinær kategori",
        Decimal(1),
        Decimal(24),
    ),
    "alert_renegotiation_days": ("Varsel før genforhandling (dage)", Decimal(0), Decimal(730)),
    "alert_notice_days": ("Varsel før opsigelsesfrist (dage)", Decimal(0), Decimal(730)),
    "vat_refund_pct": ("Momsrefusion (%)", Decimal(0), Decimal(25)),
    "large_case_threshold": ("Grænse for dyre sager (kr./år)", Decimal(0), Decimal(100000000)),
    "max_active_goals": ("Højst aktive mål pr. kontrakt", Decimal(1), Decimal(10)),
    "plausible_daily_rate": (
        "Bekræft dagspriser over (kr./dag)",
        Decimal(100),
        Decimal(100000),
    ),
    "plausible_monthly_price": (
        "Bekræft månedspriser over (kr./måned)",
        Decimal(3000),
        Decimal(3000000),
    ),
    "plausible_invoice_factor": (
        "Bekræft fakturaer over (gange det forventede)",
        Decimal("1.1"),
        Decimal(100),
    ),
    "free_choice_limit_pct": ("Grænse for frit valg (%)", Decimal(0), Decimal(100)),
    **{
        f"weight_{key}": (f"Vægt: {name.lower()}", Decimal(0), Decimal(100))
        for key, name in PARAMETERS.items()
    },
}
WEIGHT_KEYS = tuple(f"weight_{key}" for key in PARAMETERS)
WEIGHT_KEYS_SET = frozenset(WEIGHT_KEYS)


def setting_text(value: object) -> str:
    """How a setting's value is stored (tuples one item per line)."""
    if isinstance(value, tuple):
        return "\n".join(value)
    return str(value)


def _from_text(default: object, text: str) -> object:
    if isinstance(default, tuple):
        return tuple(line.strip() for line in text.splitlines() if line.strip())
    if isinstance(default, bool):
        return text == "True"
    if isinstance(default, int):
        return int(text)
    if isinstance(default, Decimal):
        return Decimal(text)
    return text


def get_settings(*, session: Session) -> AppSettings:
    """Stored settings over the defaults."""
    stored = {row.key: row.value for row in session.exec(select(Setting))}
    defaults = AppSettings()
    # Each value has its field's type: _from_text parses by the type of the field's default.
    values: dict[str, Any] = {}
    for f in fields(AppSettings):
        if f.name in stored:
            try:
                values[f.name] = _from_text(getattr(defaults, f.name), stored[f.name])
            except (ValueError, ArithmeticError):
                continue
    return AppSettings(**values)


def setting_versions(*, session: Session) -> dict[str, int]:
    return {row.key: row.version for row in session.exec(select(Setting))}


@action
def ensure_default_settings(*, session: Session, user: str = "system") -> None:
    """Store every default that is not yet stored, so the settings are visible and editable."""
    stored = set(session.exec(select(Setting.key)))
    defaults = AppSettings()
    for f in fields(AppSettings):
        if f.name not in stored:
            session.add(
                Setting(
                    key=f.name,
                    value=setting_text(getattr(defaults, f.name)),
                    created_by=user,
                    updated_by=user,
                )
            )
    flush(session)


THEME_MAX = 100  # characters in one VUM theme
SETTING_KEYS = frozenset(f.name for f in fields(AppSettings))
VALUE_MAX = 4000  # characters a stored setting holds (Setting.value)
PLACES = Decimal("0.001")  # a number setting has at most three decimals


@action
def update_settings(
    *,
    session: Session,
    values: dict[str, object],
    user: str,
    versions: dict[str, int] | None = None,
) -> AppSettings:
    """Validate and store settings; raises InputError (Danish) or ConflictError."""
    defaults = AppSettings()
    errors: dict[str, str] = {}
    parsed: dict[str, str] = {}
    for key, raw in values.items():
        if key not in SETTING_KEYS:  # not hasattr: AppSettings has properties and dunders
            errors[key] = "Ukendt indstilling"
            continue
        default = getattr(defaults, key)
        if isinstance(default, tuple):
            items = raw if isinstance(raw, list | tuple) else str(raw).splitlines()
            try:  # the same cleaning as every text field (no control characters, NUL refused)
                lines = [line for x in items if (line := clean_text(x)[:THEME_MAX])]
            except ValueError as exc:
                errors[key] = str(exc)
                continue
            if not lines:
                errors[key] = "Der skal være mindst ét tema"
            elif any(contains_cpr(line) for line in lines):
                errors[key] = CPR_MESSAGE
            elif len("\n".join(lines)) > VALUE_MAX:
                errors[key] = f"Temaerne må højst fylde {format_number(VALUE_MAX)} tegn i alt"
            else:
                parsed[key] = "\n".join(lines)
            continue
        label, low, high = SETTING_LIMITS[key]
        try:
            number = parse_decimal(raw)
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        if number is None:
            errors[key] = "Skal udfyldes"
        elif isinstance(default, int) and number != number.to_integral_value():
            errors[key] = "Skal være et helt tal"
        elif not low <= number <= high:
            errors[key] = f"Skal være mellem {format_number(low)} og {format_number(high)}"
        elif number != number.quantize(PLACES):
            errors[key] = "Højst tre decimaler"
        else:
            # Trailing zeros beyond three decimals go ("1,0000…0" pasted would outgrow the column).
            exponent = number.as_tuple().exponent
            number = (
                number.quantize(PLACES) if isinstance(exponent, int) and exponent < -3 else number
            )
            parsed[key] = str(int(number)) if isinstance(default, int) else str(number)
    if not errors and WEIGHT_KEYS_SET & parsed.keys():
        # The weights are saved together or not at all: they must still sum to 100.
        current = get_settings(session=session)
        weights = {
            key: Decimal(parsed.get(f"weight_{key}", getattr(current, f"weight_{key}")))
            for key in PARAMETERS
        }
        try:
            check_weights(weights)
        except InputError as exc:
            errors["_form"] = exc.fields.get("_weights", exc.message)
    if errors:
        raise InputError(errors)
    for key, text in parsed.items():
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=text, created_by=user, updated_by=user))
            continue
        if versions and key in versions and versions[key] != row.version:
            raise ConflictError("indstillingerne")
        if row.value != text:
            row.value = text
            row.updated_by = user
            session.add(row)
    # A save from the same loaded page that lost the race is a conflict, not a traceback.
    flush(session, "indstillingerne")
    return get_settings(session=session)
