"""The base classes of CamAuth's entities."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import UserActivity
from .coordinator import CamAuthCoordinator


class CamAuthEntity(CoordinatorEntity[CamAuthCoordinator]):
    """An entity of the CamAuth service device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: CamAuthCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.instance_id}_{description.key}"
        self._attr_device_info = coordinator.device_info


class CamAuthUserEntity(CoordinatorEntity[CamAuthCoordinator]):
    """An entity of one CamAuth user's device; unavailable once the user is gone."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: CamAuthCoordinator, description: EntityDescription, user: UserActivity
    ) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self.user_key = user.key
        self._attr_unique_id = f"{coordinator.instance_id}_user_{user.key}_{description.key}"
        self._attr_device_info = coordinator.user_device_info(user)

    @property
    def user(self) -> UserActivity | None:
        """The user's current activity (None once CamAuth no longer has them)."""
        return self.coordinator.user(self.user_key)

    @property
    def available(self) -> bool:
        """Available while CamAuth answers and still has this user."""
        return super().available and self.user is not None


@callback
def async_add_user_entities(
    coordinator: CamAuthCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_for: Callable[[UserActivity], list[Entity]],
) -> CALLBACK_TYPE:
    """Add a user's entities when CamAuth reports a new user; returns the unsubscribe."""
    known: set[str] = set()

    @callback
    def add_new_users() -> None:
        current = {user.key: user for user in coordinator.data.stats.user_activity}
        known.intersection_update(current)  # a user deleted and added again comes back
        new = [user for key, user in current.items() if key not in known]
        known.update(user.key for user in new)
        if new:
            async_add_entities([entity for user in new for entity in entities_for(user)])

    add_new_users()
    return coordinator.async_add_listener(add_new_users)
