"""CamAuth's yes/no states: a lockout is active, authentication is on, a user is locked out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Stats, UserActivity
from .coordinator import CamAuthConfigEntry, CamAuthCoordinator
from .entity import CamAuthEntity, CamAuthUserEntity, async_add_user_entities

# Coordinator-based: no updates of our own to limit.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CamAuthBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor of the CamAuth service device."""

    is_on_fn: Callable[[Stats], bool]


@dataclass(frozen=True, kw_only=True)
class CamAuthUserBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor of one user's device."""

    is_on_fn: Callable[[UserActivity], bool]


BINARY_SENSORS: tuple[CamAuthBinarySensorEntityDescription, ...] = (
    CamAuthBinarySensorEntityDescription(
        key="lockout_active",
        translation_key="lockout_active",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda stats: bool(stats.lockouts),
    ),
    CamAuthBinarySensorEntityDescription(
        key="auth_enabled",
        translation_key="auth_enabled",
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda stats: stats.auth_enabled,
    ),
)

USER_BINARY_SENSORS: tuple[CamAuthUserBinarySensorEntityDescription, ...] = (
    CamAuthUserBinarySensorEntityDescription(
        key="locked_out",
        translation_key="user_locked_out",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda user: user.locked_out,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CamAuthConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the service's binary sensors now and each user's as users appear."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        CamAuthBinarySensor(coordinator, description) for description in BINARY_SENSORS
    )
    entry.async_on_unload(
        async_add_user_entities(
            coordinator,
            async_add_entities,
            lambda user: [
                CamAuthUserBinarySensor(coordinator, description, user)
                for description in USER_BINARY_SENSORS
            ],
        )
    )


class CamAuthBinarySensor(CamAuthEntity, BinarySensorEntity):
    """A state of the whole CamAuth."""

    entity_description: CamAuthBinarySensorEntityDescription

    def __init__(
        self, coordinator: CamAuthCoordinator, description: CamAuthBinarySensorEntityDescription
    ) -> None:
        super().__init__(coordinator, description)

    @property
    def is_on(self) -> bool:
        """The state."""
        return self.entity_description.is_on_fn(self.coordinator.data.stats)


class CamAuthUserBinarySensor(CamAuthUserEntity, BinarySensorEntity):
    """A state of one user."""

    entity_description: CamAuthUserBinarySensorEntityDescription

    def __init__(
        self,
        coordinator: CamAuthCoordinator,
        description: CamAuthUserBinarySensorEntityDescription,
        user: UserActivity,
    ) -> None:
        super().__init__(coordinator, description, user)

    @property
    def is_on(self) -> bool | None:
        """The state (None once the user is gone: the entity is unavailable then)."""
        user = self.user
        return self.entity_description.is_on_fn(user) if user else None
