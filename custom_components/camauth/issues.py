"""Repair issues: what CamAuth's statistics and warnings say needs the owner's attention."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .coordinator import CamAuthConfigEntry

ADMIN_PASSWORD_GENERATED = "admin_password_generated"  # noqa: S105  # nosec B105
AUTH_DISABLED = "auth_disabled"
# Warnings with their own text; any other id gets the generic issue with CamAuth's message.
KNOWN_WARNINGS = frozenset({"forwarded_for_untrusted", "cookie_secure_off_over_https"})
GENERIC_WARNING = "camauth_warning"


def issue_id(entry: CamAuthConfigEntry, name: str) -> str:
    """The id of one of this entry's issues."""
    return f"{entry.entry_id}_{name}"


@callback
def async_update_issues(hass: HomeAssistant, entry: CamAuthConfigEntry) -> None:
    """Create the issues that hold now and delete those that no longer do."""
    snapshot = entry.runtime_data.coordinator.data
    placeholders = {"title": entry.title, "url": entry.runtime_data.client.url}
    wanted: dict[str, tuple[str, dict[str, str]]] = {}
    if snapshot.stats.admin_password_generated:
        wanted[ADMIN_PASSWORD_GENERATED] = (ADMIN_PASSWORD_GENERATED, placeholders)
    if not snapshot.stats.auth_enabled:
        wanted[AUTH_DISABLED] = (AUTH_DISABLED, placeholders)
    for warning in snapshot.warnings:
        key = warning.id if warning.id in KNOWN_WARNINGS else GENERIC_WARNING
        wanted[f"warning_{warning.id}"] = (key, placeholders | {"message": warning.message})

    for name in _existing(hass, entry) - wanted.keys():
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry, name))
    for name, (translation_key, translation_placeholders) in wanted.items():
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id(entry, name),
            is_fixable=name == ADMIN_PASSWORD_GENERATED,
            severity=ir.IssueSeverity.WARNING,
            translation_key=translation_key,
            translation_placeholders=translation_placeholders,
            data={"entry_id": entry.entry_id},
        )


@callback
def async_delete_issues(hass: HomeAssistant, entry: CamAuthConfigEntry) -> None:
    """Delete every issue of this entry."""
    for name in _existing(hass, entry):
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry, name))


def _existing(hass: HomeAssistant, entry: CamAuthConfigEntry) -> set[str]:
    """The names of this entry's current issues."""
    prefix = issue_id(entry, "")
    return {
        issue.removeprefix(prefix)
        for domain, issue in ir.async_get(hass).issues
        if domain == DOMAIN and issue.startswith(prefix)
    }
