"""Who may do what (SPEC 8): the role a user works with, and what each role may do.

Roles come from the sign-in token's `roles` claim (Entra ID app roles; not `groups`, which Entra
leaves out of the token above 200 groups), mapped to the tool's roles. A token naming several
gives the highest. An admin's decision in the user table wins over the token, and a revoked
user is refused whatever the token says. Each role may do everything the roles before it may:
læser < koordinator < indkøb < admin.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from models.enums import Role, label

ORDER: tuple[Role, ...] = (Role.READER, Role.COORDINATOR, Role.PROCUREMENT, Role.ADMIN)

# The token's role values the tool knows by default: its own codes and the app-role values an
# Entra app registration would typically use. Compared ignoring case.
DEFAULT_ROLE_CLAIMS: Mapping[str, Role] = {
    **{role.value: role for role in Role},
    "takstkompas.laeser": Role.READER,
    "takstkompas.koordinator": Role.COORDINATOR,
    "takstkompas.indkoeb": Role.PROCUREMENT,
    "takstkompas.admin": Role.ADMIN,
}

NO_ACCESS = "Du har ikke adgang"


class Capability(StrEnum):
    """What a page or an action needs."""

    READ = "read"  # every page's figures, price lookup, offer comparison
    WRITE_NOTES = "write_notes"  # vidensbank notes
    COMPARE = "compare"  # saving an offer comparison under a case reference
    CHECK_INVOICES = "check_invoices"  # invoice checks, credit notes, the deviation log
    FOLLOW_UP = "follow_up"  # follow-ups and goals
    PROCURE = "procure"  # providers, offers, contracts, add-ons, price categories, imports
    ADMINISTER = "administer"  # settings, users, audit trail, removing demo data


# The lowest role that has each capability.
LOWEST_ROLE: Mapping[Capability, Role] = {
    Capability.READ: Role.READER,
    Capability.WRITE_NOTES: Role.READER,
    Capability.COMPARE: Role.READER,
    Capability.CHECK_INVOICES: Role.COORDINATOR,
    Capability.FOLLOW_UP: Role.COORDINATOR,
    Capability.PROCURE: Role.PROCUREMENT,
    Capability.ADMINISTER: Role.ADMIN,
}


# What each write service needs (SPEC 8), by its module and name. Every user action
# (services.unit_of_work.action) is listed; a test keeps it so.
SYSTEM = None  # run by the app itself, not on a user's behalf
WRITE_CAPABILITY: Mapping[str, Capability | None] = {
    # Vidensbank
    "services.providers.add_provider_note": Capability.WRITE_NOTES,
    "services.providers.void_provider_note": Capability.WRITE_NOTES,
    # Offer comparisons for the visitation committee
    "services.comparisons.save_comparison": Capability.COMPARE,
    # Invoice checks and the deviation log
    "services.invoices.check_invoice": Capability.CHECK_INVOICES,
    "services.invoices.register_credit_note": Capability.CHECK_INVOICES,
    "services.invoices.void_invoice_check": Capability.CHECK_INVOICES,
    "services.invoices.update_deviation": Capability.CHECK_INVOICES,
    # Follow-ups and goals
    "services.followups.plan_followup": Capability.FOLLOW_UP,
    "services.followups.assign_followup": Capability.FOLLOW_UP,
    "services.followups.record_followup": Capability.FOLLOW_UP,
    "services.followups.update_goal": Capability.FOLLOW_UP,
    # Providers, offers, contracts, price categories
    "services.providers.create_provider": Capability.PROCURE,
    "services.providers.update_provider": Capability.PROCURE,
    "services.providers.create_offer": Capability.PROCURE,
    "services.providers.update_offer": Capability.PROCURE,
    "services.contracts.create_contract": Capability.PROCURE,
    "services.imports.providers.import_providers": Capability.PROCURE,
    "services.imports.offers.import_offers": Capability.PROCURE,
    "services.imports.contracts.import_contracts": Capability.PROCURE,
    "services.imports.invoices.import_invoices": Capability.CHECK_INVOICES,
    "services.einvoice.batch.save_einvoices": Capability.CHECK_INVOICES,
    "services.contracts.update_contract": Capability.PROCURE,
    "services.contracts.add_addon": Capability.PROCURE,
    "services.contracts.update_addon": Capability.PROCURE,
    "services.contracts.void_addon": Capability.PROCURE,
    "services.contracts.register_price_change": Capability.PROCURE,
    "services.contracts.void_price_change": Capability.PROCURE,
    "services.contracts.delete_draft_contract": Capability.PROCURE,
    "services.reference.create_price_category_set": Capability.PROCURE,
    "services.reference.update_price_category_set": Capability.PROCURE,
    "services.reference.copy_price_category_year": Capability.PROCURE,
    # Settings, budgets, the target-group list, users, demo data
    "services.reference.save_budget": Capability.ADMINISTER,
    "services.reference.save_regulation_rate": Capability.ADMINISTER,
    "services.settings.update_settings": Capability.ADMINISTER,
    "services.target_groups.create_target_group": Capability.ADMINISTER,
    "services.target_groups.update_target_group": Capability.ADMINISTER,
    "services.target_groups.merge_target_groups": Capability.ADMINISTER,
    "services.users.set_user_access": Capability.ADMINISTER,
    "services.demo_data.remove_demo_data": Capability.ADMINISTER,
    # The app's own bookkeeping
    "services.settings.ensure_default_settings": SYSTEM,
    "services.users.sign_in": SYSTEM,
}


def capability_of(service: Any) -> Capability | None:
    """What a user action needs (None for a function that is not one, or the app's own)."""
    return WRITE_CAPABILITY.get(getattr(service, "action_name", ""))


def not_allowed_message(capability: Capability) -> str:
    return (
        f"{NO_ACCESS} til at gemme dette: det kræver rollen "
        f"{label(LOWEST_ROLE[capability])} eller højere."
    )


def check_allowed(action: str, role: Role | None) -> None:
    """Refuse a user action the role may not take (InputError with the Danish message). An
    action missing from WRITE_CAPABILITY is refused too: a new service must be placed first."""
    from services.errors import InputError

    if action not in WRITE_CAPABILITY:
        raise InputError({"_form": f"{NO_ACCESS}: handlingen {action} har ingen rolle."})
    capability = WRITE_CAPABILITY[action]
    if capability is not None and not may(role, capability):
        raise InputError({"_form": not_allowed_message(capability)})


def rank(role: Role) -> int:
    return ORDER.index(role)


def highest(roles: Iterable[Role]) -> Role | None:
    """The highest of the roles; None for none."""
    return max(roles, key=rank, default=None)


def may(role: Role | None, capability: Capability) -> bool:
    """Whether a user working as `role` (None: no access) has the capability."""
    return role is not None and rank(role) >= rank(LOWEST_ROLE[capability])


def _claim_values(claim: Any) -> list[str]:
    """The `roles` claim as a list of strings: a list, or one string (some providers send one
    role that way); anything else counts as no roles."""
    if isinstance(claim, str):
        return [claim]
    if isinstance(claim, list | tuple):
        return [value for value in claim if isinstance(value, str)]
    return []


def roles_from_claims(
    claims: Mapping[str, Any], mapping: Mapping[str, Role] = DEFAULT_ROLE_CLAIMS
) -> Role | None:
    """The tool role a token gives: the highest of its `roles` values that `mapping` knows
    (compared ignoring case and surrounding spaces); None when the claim is missing or names
    no known role."""
    known = {key.strip().casefold(): role for key, role in mapping.items()}
    found = (known.get(value.strip().casefold()) for value in _claim_values(claims.get("roles")))
    return highest(role for role in found if role is not None)


def effective_role(
    *, token_role: Role | None, assigned_role: Role | None, active: bool
) -> Role | None:
    """The role a user works with now: none if revoked; else an admin's assigned role; else the
    token's. None means "Du har ikke adgang"."""
    if not active:
        return None
    return assigned_role if assigned_role is not None else token_role
