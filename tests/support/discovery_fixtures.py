"""Discovery messages as real publishers send them: (topic, payload) pairs, as Python data.

Modelled on what Zigbee2MQTT (full keys, JSON-schema lights, ``name: null`` for a device's main
feature, availability lists, an ``origin`` block), Tasmota (``SetOption19`` discovery: heavily
abbreviated keys, ``~`` as the base topic, a ``dev`` block), ESPHome's MQTT component
(abbreviated keys, ``dev`` with ``sa``) and the Home Assistant MQTT documentation publish.
Identifiers and names are made up.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["FIXTURES", "HOME_ASSISTANT_IDS", "PROBES"]

_Z2M_ORIGIN: Final = {"name": "Zigbee2MQTT", "sw": "1.40.2", "url": "https://www.zigbee2mqtt.io"}


def _z2m_availability(friendly_name: str) -> list[dict[str, str]]:
    return [
        {"topic": "zigbee2mqtt/bridge/state", "value_template": "{{ value_json.state }}"},
        {
            "topic": f"zigbee2mqtt/{friendly_name}/availability",
            "value_template": "{{ value_json.state }}",
        },
    ]


def _z2m_device(ieee: str, name: str, model: str, manufacturer: str) -> dict[str, Any]:
    return {
        "identifiers": [f"zigbee2mqtt_{ieee}"],
        "manufacturer": manufacturer,
        "model": model,
        "name": name,
        "sw_version": "1.0.4",
        "via_device": "zigbee2mqtt_bridge_0x00124b0022ecd1ab",
    }


FIXTURES: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    # Zigbee2MQTT: a Hue bulb, JSON schema, the device's main feature (name null).
    "z2m_light": (
        "homeassistant/light/0x0017880104e45517/light/config",
        {
            "availability": _z2m_availability("Kitchen ceiling"),
            "availability_mode": "all",
            "brightness": True,
            "brightness_scale": 254,
            "command_topic": "zigbee2mqtt/Kitchen ceiling/set",
            "device": _z2m_device(
                "0x0017880104e45517",
                "Kitchen ceiling",
                "Hue white ambiance E26/E27 (8718699673147)",
                "Signify Netherlands B.V.",
            ),
            "effect": True,
            "effect_list": ["blink", "breathe", "okay", "channel_change", "stop_effect"],
            "json_attributes_topic": "zigbee2mqtt/Kitchen ceiling",
            "max_mireds": 454,
            "min_mireds": 250,
            "name": None,
            "object_id": "kitchen_ceiling",
            "origin": _Z2M_ORIGIN,
            "schema": "json",
            "state_topic": "zigbee2mqtt/Kitchen ceiling",
            "supported_color_modes": ["color_temp"],
            "unique_id": "0x0017880104e45517_light_zigbee2mqtt",
        },
    ),
    # Zigbee2MQTT: a door lock; the command goes to the "state" sub-topic.
    "z2m_lock": (
        "homeassistant/lock/0x000d6f0011a3b5c7/lock/config",
        {
            "availability": _z2m_availability("Front door lock"),
            "availability_mode": "all",
            "command_topic": "zigbee2mqtt/Front door lock/set/state",
            "device": _z2m_device(
                "0x000d6f0011a3b5c7", "Front door lock", "Assure lock SL (YRD256HA20BP)", "Yale"
            ),
            "name": None,
            "object_id": "front_door_lock",
            "origin": _Z2M_ORIGIN,
            "payload_lock": "LOCK",
            "payload_unlock": "UNLOCK",
            "state_locked": "LOCK",
            "state_topic": "zigbee2mqtt/Front door lock",
            "state_unlocked": "UNLOCK",
            "unique_id": "0x000d6f0011a3b5c7_lock_zigbee2mqtt",
            "value_template": "{{ value_json.state }}",
        },
    ),
    # Zigbee2MQTT: a radiator thermostat; min_temp and max_temp come as text.
    "z2m_thermostat": (
        "homeassistant/climate/0x84fd27fffe6a1b2c/climate/config",
        {
            "action_template": "{{ value_json.running_state }}",
            "action_topic": "zigbee2mqtt/Hallway thermostat",
            "availability": _z2m_availability("Hallway thermostat"),
            "current_temperature_template": "{{ value_json.local_temperature }}",
            "current_temperature_topic": "zigbee2mqtt/Hallway thermostat",
            "device": _z2m_device(
                "0x84fd27fffe6a1b2c",
                "Hallway thermostat",
                "Radiator valve with thermostat (TS0601_thermostat)",
                "Tuya",
            ),
            "json_attributes_topic": "zigbee2mqtt/Hallway thermostat",
            "max_temp": "30",
            "min_temp": "5",
            "mode_command_topic": "zigbee2mqtt/Hallway thermostat/set/system_mode",
            "mode_state_template": "{{ value_json.system_mode }}",
            "mode_state_topic": "zigbee2mqtt/Hallway thermostat",
            "modes": ["off", "heat", "auto"],
            "name": None,
            "object_id": "hallway_thermostat",
            "origin": _Z2M_ORIGIN,
            "temp_step": 0.5,
            "temperature_command_topic": (
                "zigbee2mqtt/Hallway thermostat/set/current_heating_setpoint"
            ),
            "temperature_state_template": "{{ value_json.current_heating_setpoint }}",
            "temperature_state_topic": "zigbee2mqtt/Hallway thermostat",
            "temperature_unit": "C",
            "unique_id": "0x84fd27fffe6a1b2c_climate_zigbee2mqtt",
        },
    ),
    # Zigbee2MQTT: the temperature of an Aqara sensor, a named feature of a named device.
    "z2m_temperature": (
        "homeassistant/sensor/0x00158d0001a2b3c4/temperature/config",
        {
            "availability": _z2m_availability("Living room climate"),
            "device": _z2m_device(
                "0x00158d0001a2b3c4",
                "Living room climate",
                "Temperature and humidity sensor (WSDCGQ11LM)",
                "Aqara",
            ),
            "device_class": "temperature",
            "enabled_by_default": True,
            "name": "Temperature",
            "object_id": "living_room_climate_temperature",
            "origin": _Z2M_ORIGIN,
            "state_class": "measurement",
            "state_topic": "zigbee2mqtt/Living room climate",
            "unique_id": "0x00158d0001a2b3c4_temperature_zigbee2mqtt",
            "unit_of_measurement": "°C",
            "value_template": "{{ value_json.temperature }}",
        },
    ),
    # Zigbee2MQTT: a door contact; payload_on/off are JSON booleans (contact false = open).
    "z2m_door": (
        "homeassistant/binary_sensor/0x00158d000a1b2c3d/contact/config",
        {
            "availability": _z2m_availability("Back door sensor"),
            "device": _z2m_device(
                "0x00158d000a1b2c3d",
                "Back door sensor",
                "Door and window sensor (MCCGQ11LM)",
                "Aqara",
            ),
            "device_class": "door",
            "name": "Contact",
            "object_id": "back_door_sensor_contact",
            "origin": _Z2M_ORIGIN,
            "payload_off": True,
            "payload_on": False,
            "state_topic": "zigbee2mqtt/Back door sensor",
            "unique_id": "0x00158d000a1b2c3d_contact_zigbee2mqtt",
            "value_template": "{{ value_json.contact }}",
        },
    ),
    # Tasmota (SetOption19): relay 1 of a Sonoff Basic, FullTopic %topic%/%prefix%/.
    "tasmota_relay": (
        "homeassistant/switch/8A1B2C_RL_1/config",
        {
            "name": "Coffee Machine",
            "cmd_t": "~cmnd/POWER",
            "stat_t": "~tele/STATE",
            "val_tpl": "{{value_json.POWER}}",
            "pl_off": "OFF",
            "pl_on": "ON",
            "avty_t": "~tele/LWT",
            "pl_avail": "Online",
            "pl_not_avail": "Offline",
            "uniq_id": "8A1B2C_RL_1",
            "dev": {
                "ids": ["8A1B2C"],
                "name": "Coffee Machine",
                "mdl": "Sonoff Basic",
                "sw": "9.5.0(tasmota)",
                "mf": "Tasmota",
            },
            "~": "tasmota_8A1B2C/",
        },
    ),
    # Tasmota: a dimmer exposed as a light, brightness 0-100 sent instead of POWER ON.
    "tasmota_dimmer": (
        "homeassistant/light/5C3D9E_LI_1/config",
        {
            "name": "Bedside Lamp",
            "cmd_t": "~cmnd/POWER",
            "stat_t": "~tele/STATE",
            "val_tpl": "{{value_json.POWER}}",
            "pl_off": "OFF",
            "pl_on": "ON",
            "avty_t": "~tele/LWT",
            "pl_avail": "Online",
            "pl_not_avail": "Offline",
            "uniq_id": "5C3D9E_LI_1",
            "dev": {
                "ids": ["5C3D9E"],
                "name": "Bedroom Dimmer",
                "mdl": "Sonoff D1",
                "sw": "12.5.0(tasmota)",
                "mf": "Tasmota",
            },
            "~": "tasmota_5C3D9E/",
            "bri_cmd_t": "~cmnd/Dimmer",
            "bri_stat_t": "~tele/STATE",
            "bri_scl": 100,
            "on_cmd_type": "brightness",
            "bri_val_tpl": "{{value_json.Dimmer}}",
        },
    ),
    # ESPHome (MQTT component): a garage door opener with position, in area "Garage".
    "esphome_garage": (
        "homeassistant/cover/garage-door/garage_door/config",
        {
            "dev_cla": "garage",
            "name": "Garage Door",
            "stat_t": "garage-door/cover/garage_door/state",
            "cmd_t": "garage-door/cover/garage_door/command",
            "pos_t": "garage-door/cover/garage_door/position/state",
            "set_pos_t": "garage-door/cover/garage_door/position/command",
            "avty_t": "garage-door/status",
            "uniq_id": "ESPcovergarage_door",
            "dev": {
                "ids": "a4cf12b3c4d5",
                "name": "garage-door",
                "sw": "esphome v2024.6.1 Jun 20 2024, 10:02:11",
                "mdl": "esp32dev",
                "mf": "espressif",
                "sa": "Garage",
            },
        },
    ),
    # ESPHome: a three-speed ceiling fan; the speed level is sent, not the percentage.
    "esphome_fan": (
        "homeassistant/fan/bedroom-fan/ceiling_fan/config",
        {
            "name": "Ceiling Fan",
            "stat_t": "bedroom-fan/fan/ceiling_fan/state",
            "cmd_t": "bedroom-fan/fan/ceiling_fan/command",
            "pct_stat_t": "bedroom-fan/fan/ceiling_fan/speed_level/state",
            "pct_cmd_t": "bedroom-fan/fan/ceiling_fan/speed_level/command",
            "spd_rng_max": 3,
            "avty_t": "bedroom-fan/status",
            "uniq_id": "ESPfanceiling_fan",
            "obj_id": "bedroom_fan_ceiling_fan",  # discovery_object_id_generator: device_name
            "dev": {
                "ids": "08b61fa1b2c3",
                "name": "bedroom-fan",
                "sw": "esphome v2024.6.1 Jun 20 2024, 10:02:11",
                "mdl": "esp01_1m",
                "mf": "espressif",
                "sa": "Bedroom",
            },
        },
    ),
    # Home Assistant documentation: a motion sensor that is its device's main feature.
    "ha_motion": (
        "homeassistant/binary_sensor/garden/config",
        {
            "name": None,
            "device_class": "motion",
            "state_topic": "homeassistant/binary_sensor/garden/state",
            "unique_id": "motion01ad",
            "device": {"identifiers": ["01ad"], "name": "Garden"},
        },
    ),
    # Home Assistant documentation: abbreviations and the "~" base topic, a JSON light.
    "ha_kitchen_light": (
        "homeassistant/light/kitchen/config",
        {
            "~": "homeassistant/light/kitchen",
            "name": "Kitchen",
            "uniq_id": "kitchen_light",
            "cmd_t": "~/set",
            "stat_t": "~/state",
            "schema": "json",
            "brightness": True,
        },
    ),
    # Home Assistant documentation: an HVAC with abbreviated keys and temperatures as text.
    "ha_hvac": (
        "homeassistant/climate/livingroom/config",
        {
            "name": "Livingroom",
            "mode_cmd_t": "homeassistant/climate/livingroom/thermostatModeCmd",
            "mode_stat_t": "homeassistant/climate/livingroom/state",
            "mode_stat_tpl": "{{value_json.mode}}",
            "avty_t": "homeassistant/climate/livingroom/available",
            "pl_avail": "online",
            "pl_not_avail": "offline",
            "temp_cmd_t": "homeassistant/climate/livingroom/targetTempCmd",
            "temp_stat_t": "homeassistant/climate/livingroom/state",
            "temp_stat_tpl": "{{value_json.target_temp}}",
            "curr_temp_t": "homeassistant/climate/livingroom/state",
            "curr_temp_tpl": "{{value_json.current_temp}}",
            "min_temp": "15",
            "max_temp": "25",
            "temp_step": "0.5",
            "modes": ["off", "heat"],
        },
    ),
    # A Node-RED flow publishing a scene as a feature of a per-room device.
    "nodered_scene": (
        "homeassistant/scene/nodered/movie_night/config",
        {
            "name": "Movie night",
            "has_entity_name": True,
            "unique_id": "nodered_living_room_movie_night",
            "command_topic": "nodered/scenes/living_room/movie_night/activate",
            "payload_on": "ACTIVATE",
            "device": {
                "identifiers": ["nodered_living_room_scenes"],
                "name": "Living room",
                "manufacturer": "Node-RED",
                "suggested_area": "Living room",
            },
        },
    ),
}


# Payloads that probe how Home Assistant names entities (see assistant.home.entity_ids).
PROBES: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    "default_entity_id_only": (
        "homeassistant/sensor/probe/dei_only/config",
        {
            "name": "Probe value",
            "state_topic": "probe/dei_only",
            "unique_id": "probe_dei_only",
            "default_entity_id": "sensor.probe_chosen_id",
            "device": {"identifiers": ["probe_device"], "name": "Probe device"},
        },
    ),
    "object_id_and_default_entity_id": (
        "homeassistant/sensor/probe/both/config",
        {
            "name": "Probe both",
            "state_topic": "probe/both",
            "unique_id": "probe_both",
            "object_id": "probe_from_object_id",
            "default_entity_id": "sensor.probe_from_default_entity_id",
            "device": {"identifiers": ["probe_device"], "name": "Probe device"},
        },
    ),
    "device_without_name": (
        "homeassistant/sensor/probe/nameless_device/config",
        {
            "name": "Nameless device value",
            "state_topic": "probe/nameless",
            "unique_id": "probe_nameless_device",
            "device": {"identifiers": ["probe_nameless"]},
        },
    ),
    "no_name_key": (
        "homeassistant/sensor/probe/no_name/config",
        {
            "state_topic": "probe/no_name",
            "unique_id": "probe_no_name",
            "device": {"identifiers": ["probe_device"], "name": "Probe device"},
        },
    ),
    "has_entity_name_false": (
        "homeassistant/sensor/probe/hen_false/config",
        {
            "name": "Standalone name",
            "has_entity_name": False,
            "state_topic": "probe/hen_false",
            "unique_id": "probe_hen_false",
            "device": {"identifiers": ["probe_device"], "name": "Probe device"},
        },
    ),
}

# The entity id Home Assistant 2025.4.4 gave each payload above, seen in a real Home Assistant
# (the `ha` acceptance test checks them again), and the id Hearth gives it. They differ only
# where a newer Home Assistant names it differently: 2025.10 and later read
# `default_entity_id`, and 2026 leaves a missing device name out instead of writing "None".
HOME_ASSISTANT_IDS: Final[dict[str, tuple[str, str]]] = {
    "z2m_light": ("light.kitchen_ceiling", "light.kitchen_ceiling"),
    "z2m_lock": ("lock.front_door_lock", "lock.front_door_lock"),
    "z2m_thermostat": ("climate.hallway_thermostat", "climate.hallway_thermostat"),
    "z2m_temperature": (
        "sensor.living_room_climate_temperature",
        "sensor.living_room_climate_temperature",
    ),
    "z2m_door": (
        "binary_sensor.back_door_sensor_contact",
        "binary_sensor.back_door_sensor_contact",
    ),
    "tasmota_relay": (
        "switch.coffee_machine_coffee_machine",
        "switch.coffee_machine_coffee_machine",
    ),
    "tasmota_dimmer": ("light.bedroom_dimmer_bedside_lamp", "light.bedroom_dimmer_bedside_lamp"),
    "esphome_garage": ("cover.garage_door_garage_door", "cover.garage_door_garage_door"),
    "esphome_fan": ("fan.bedroom_fan_ceiling_fan", "fan.bedroom_fan_ceiling_fan"),
    "ha_motion": ("binary_sensor.garden", "binary_sensor.garden"),
    "ha_kitchen_light": ("light.kitchen", "light.kitchen"),
    "ha_hvac": ("climate.livingroom", "climate.livingroom"),
    "nodered_scene": ("scene.living_room_movie_night", "scene.living_room_movie_night"),
    "default_entity_id_only": ("sensor.probe_device_probe_value", "sensor.probe_chosen_id"),
    "object_id_and_default_entity_id": (
        "sensor.probe_from_object_id",
        "sensor.probe_from_default_entity_id",
    ),
    "device_without_name": ("sensor.none_nameless_device_value", "sensor.nameless_device_value"),
    "no_name_key": ("sensor.probe_device_mqtt_sensor", "sensor.probe_device_mqtt_sensor"),
    "has_entity_name_false": (
        "sensor.probe_device_standalone_name",
        "sensor.probe_device_standalone_name",
    ),
}
