"""reader.config on its own: validation, merging, atomic save, the pin maps as data.

Runs on MicroPython (64 KiB heap) and CPython from tests/firmware (test_firmware_suites.py), with
PARTYCARD_CONFIG_DIR pointing at a scratch folder so that nothing is written beside the firmware.
"""

import json
import os
import sys

from reader import config, device
from reader.device import PATTERNS
from reader.errors import ReaderFault
from reader.link import codes

# Outside the checkout, one folder per runtime (the two runs may overlap). MicroPython's unix port
# has no os.environ: os.putenv changes what os.getenv reads there; CPython's getenv reads environ.
_DIR = "/tmp/partycard-fwtest-config-" + sys.implementation.name


def _scratch():
    try:
        os.mkdir(_DIR)
    except OSError:
        pass
    for name in (config.NAME, config.NAME + ".tmp"):
        try:
            os.remove(_DIR + "/" + name)
        except OSError:
            pass
    if hasattr(os, "environ"):
        os.environ["PARTYCARD_CONFIG_DIR"] = _DIR
    else:
        os.putenv("PARTYCARD_CONFIG_DIR", _DIR)


def _refused(changes, code, key):
    try:
        config.update({}, changes)
    except ReaderFault as exc:
        assert exc.code == code, exc.code
        assert exc.detail == {"key": key}, exc.detail
        return
    raise AssertionError("accepted: " + repr(changes))


def test_path_follows_the_env_folder():
    _scratch()
    assert config.path() == _DIR + "/config.json"


def test_the_maintenance_flag_lies_beside_the_config_and_is_taken_once():
    from reader import maintenance

    _scratch()
    assert maintenance.flag_path() == config.path()[: -len("config.json")] + "maintenance"
    assert not maintenance.take()
    maintenance.request()
    assert maintenance.take()
    assert not maintenance.take()


def test_missing_and_damaged_files_read_as_empty():
    _scratch()
    assert config.load() == {}
    with open(config.path(), "w") as f:
        f.write("{not json")
    assert config.load() == {}
    with open(config.path(), "w") as f:
        f.write("[1, 2]")
    assert config.load() == {}


def test_save_then_load_round_trip_leaves_no_temp_file():
    _scratch()
    data = config.update({}, {"serial": "KIOSK-7", "link": "usb-cdc", "pn532_baud": 921600})
    config.save(data)
    assert config.load() == data
    data = config.update(data, {"link": None, "link_baud": 230400})
    config.save(data)
    assert config.load() == {"serial": "KIOSK-7", "pn532_baud": 921600, "link_baud": 230400}
    assert config.NAME + ".tmp" not in os.listdir(_DIR)


def test_unknown_keys_are_config_errors():
    _refused({"colour": "red"}, codes.E_CONFIG, "colour")
    _refused({"patterns": {"party": [[1, 0, 0, 10]]}}, codes.E_CONFIG, "party")


def test_bad_values_are_bad_arguments():
    _refused({"link": "wifi"}, codes.E_BAD_ARGUMENT, "link")
    _refused({"link_baud": 12345}, codes.E_BAD_ARGUMENT, "link_baud")
    _refused({"link_baud": True}, codes.E_BAD_ARGUMENT, "link_baud")
    _refused({"pn532_baud": -1}, codes.E_BAD_ARGUMENT, "pn532_baud")
    _refused({"serial": "has space"}, codes.E_BAD_ARGUMENT, "serial")
    _refused({"serial": ""}, codes.E_BAD_ARGUMENT, "serial")
    _refused({"serial": 7}, codes.E_BAD_ARGUMENT, "serial")
    _refused({"board": "no-such-board"}, codes.E_BAD_ARGUMENT, "board")
    _refused({"patterns": {"ok": []}}, codes.E_BAD_ARGUMENT, "ok")
    _refused({"patterns": {"ok": [[2, 0, 0, 10]]}}, codes.E_BAD_ARGUMENT, "ok")
    _refused({"patterns": {"ok": [[1, 0, 0]]}}, codes.E_BAD_ARGUMENT, "ok")
    _refused({"patterns": {"ok": [[1, 0, 0, 99999]]}}, codes.E_BAD_ARGUMENT, "ok")
    _refused({"patterns": "loud"}, codes.E_BAD_ARGUMENT, "patterns")


def test_one_refusal_changes_nothing():
    stored = {"serial": "A-1"}
    try:
        config.update(stored, {"serial": "B-2", "link": "carrier-pigeon"})
    except ReaderFault as exc:
        assert exc.code == codes.E_BAD_ARGUMENT, exc.code
        pass
    assert stored == {"serial": "A-1"}


def test_patterns_merge_by_name():
    stored = config.update({}, {"patterns": {"ok": [[1, 0, 0, 50]]}})
    stored = config.update(stored, {"patterns": {"fail": [[0, 1, 500, 50]]}})
    assert stored == {"patterns": {"ok": [[1, 0, 0, 50]], "fail": [[0, 1, 500, 50]]}}
    for name in PATTERNS:  # the built-in defaults pass the same checks
        steps = [list(step) for step in device.DEFAULTS[name]]
        config.update({}, {"patterns": {name: steps}})


def test_board_must_fit_this_reader():
    # The tests run with cwd tests/firmware, where boards/ is not: point root at the firmware.
    here = os.getcwd()
    os.chdir("../../firmware")
    try:
        assert config.update({}, {"board": "unix"}) == {"board": "unix"}
        try:
            config.update({}, {"board": "esp32-devkitc"})  # an ESP32 pin map on the unix port
        except ReaderFault as exc:
            assert exc.code == codes.E_CONFIG, exc.code
            assert exc.detail == {"key": "board"}
        else:
            raise AssertionError("an ESP32 board was accepted on the unix port")
    finally:
        os.chdir(here)


def test_pin_maps_are_data():
    here = os.getcwd()
    os.chdir("../../firmware")
    try:
        for name in ("esp32-devkitc", "esp32-s3-devkitc"):
            spec = config.board_spec(name)
            with open("boards/" + name + ".json") as f:
                assert spec == json.load(f)
            assert spec["board"] == name and spec["pn532"]["interface"] in ("hsu", "i2c", "spi")
        assert config.board_spec("nope") is None
    finally:
        os.chdir(here)
