"""The names speech-to-text expects, likeliest first: recent, this room, rooms, devices, sensors."""

from __future__ import annotations

from assistant.home.entities import Entity, EntityRegistry
from assistant.turn.name_hints import hint_names

HOME = EntityRegistry(
    [
        Entity("sensor.hall_temp", "sensor", "Hall Temperature", area="hall", area_name="Hall"),
        Entity("light.hall", "light", "Hall Light", (), "hall", "Hall", "h/set"),
        Entity("light.desk", "light", "Desk Lamp", ("Reading Lamp",), "study", "Study", "d/set"),
        Entity("switch.fan", "switch", "Fan", (), "study", "Study", "f/set"),
        Entity("lock.door", "lock", "Front Door", command_topic="door/set"),
    ]
)


def test_recent_first_then_this_room_then_rooms_devices_and_sensors() -> None:
    assert hint_names(HOME, "study", ["lock.door", "light.hall"]) == [
        "Hall Light",
        "Front Door",
        "Desk Lamp",
        "Reading Lamp",
        "Fan",
        "Study",
        "Hall",
        "Hall Temperature",
    ]


def test_without_a_room_or_history_devices_come_before_sensors() -> None:
    names = hint_names(HOME)
    assert names.index("Front Door") < names.index("Hall Temperature")
    assert names[:2] == ["Hall", "Study"]
    assert hint_names(HOME, "", ["light.gone"]) == names  # a device no longer there is skipped
