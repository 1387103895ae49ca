"""Hardware-in-the-loop link tests through pytest-embedded's ``serial`` service.

With ``--port /dev/ttyUSB0`` the tests talk to a real ESP32 reader. Without it, a simulated
reader (the unmodified firmware on the MicroPython unix port) is started here and its pty is
handed to pytest-embedded by overriding the plugin's ``port`` fixture, so the same test runs in
every ``make test``. ``embedded_services`` defaults to ``serial`` for this folder, so no extra
command-line option is needed; ``--embedded-services`` on the command line still wins.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from partycard.link.client import ReaderClient
from partycard.sim.pn532 import VirtualPN532
from partycard.sim.runner import DEFAULT_HEAP, SimulatedReader
from tests.firmware.link.mpybuild import build_mpy

# With a virtual PN532 the card layer is loaded too; precompiled, the whole reader takes about
# 82 KB of the unix port's 64-bit heap (tests/firmware/device/test_fw_device_process.py holds the
# reader without a front-end to 64 KiB), so the simulated board gets an ESP32's 64 KiB in the
# port's own 32-bit terms (partycard.sim.runner.DEFAULT_HEAP, 131072 bytes).
SIM_HEAP = DEFAULT_HEAP


class HilSimulator(SimulatedReader):
    """The simulated reader as a board runs it: the firmware precompiled by mpy-cross (frozen or
    .mpy on an ESP32, not compiled from source on the target), and its config file in a folder of
    its own (PARTYCARD_CONFIG_DIR), so that config.set never writes beside the firmware."""

    def __init__(self, mpy_tree: Path, config_dir: Path, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.mpy_tree = mpy_tree
        self.config_dir = config_dir

    def _environment(self) -> dict[str, str]:
        env = super()._environment()
        env["MICROPYPATH"] = f"{self.mpy_tree}{os.pathsep}.frozen"
        env["PARTYCARD_CONFIG_DIR"] = str(self.config_dir)
        return env


def _cli_port(config: pytest.Config) -> str | None:
    try:
        value = config.getoption("port")
    except ValueError:  # pytest-embedded is not loaded in this session
        return None
    return str(value) if value else None


@pytest.fixture(scope="session", autouse=True)
def _port_exists(pytestconfig: pytest.Config) -> None:
    """One clear message instead of a serial traceback per test when the board is not plugged in."""
    cli = _cli_port(pytestconfig)
    if cli is not None and cli.startswith("/dev/") and not Path(cli).exists():
        pytest.exit(f"--port {cli}: no such serial port; is the board plugged in? "
                    "(ls /dev/ttyUSB* /dev/ttyACM* lists the candidates)", returncode=4)


@pytest.fixture(scope="session")
def simulated_reader(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimulatedReader | None]:
    """The simulated reader behind the port, or None when a real one was given with --port.

    It has a virtual PN532 with an empty slot (``virtual_pn532``) where tests insert cards."""
    if _cli_port(pytestconfig) is not None:
        yield None
        return
    mpy = build_mpy(tmp_path_factory.mktemp("hil-fw-mpy"))
    config_dir = tmp_path_factory.mktemp("hil-flash")
    sim = HilSimulator(
        mpy, config_dir, runtime="micropython", serial="SIM-HIL", pn532=VirtualPN532(None), heap=SIM_HEAP
    )
    with sim:
        yield sim


@pytest.fixture(scope="session")
def virtual_pn532(simulated_reader: SimulatedReader | None) -> VirtualPN532 | None:
    """The simulator's PN532 (insert and remove cards here), or None on a real board."""
    if simulated_reader is None:
        return None
    pn532 = simulated_reader.pn532
    assert isinstance(pn532, VirtualPN532)
    return pn532


@pytest.fixture
def reader_client(request: pytest.FixtureRequest) -> ReaderClient:
    """The host library on pytest-embedded's serial port (the real board's or the simulator's pty).

    pytest-embedded reads the port in a thread meant for text; it is stopped and the library takes
    the pyserial object over, as test_hil_link.py does after the banner."""
    if not request.config.pluginmanager.has_plugin("pytest_embedded"):
        pytest.skip("pytest-embedded is not loaded here; test_hil_device_suite_in_subprocess runs these with it")
    from partycard.transport.serial import SerialTransport

    dut = request.getfixturevalue("dut")
    dut.serial.stop_redirect_thread()
    client = ReaderClient(SerialTransport.from_serial(dut.serial.proc))
    client.connect(5.0)
    return client


@pytest.fixture
def port(request: pytest.FixtureRequest, simulated_reader: SimulatedReader | None) -> str:
    """Overrides pytest-embedded's ``port``: the real board's port, else the simulator's pty."""
    cli = _cli_port(request.config)
    if cli is not None:
        return cli
    assert simulated_reader is not None
    return simulated_reader.port


@pytest.fixture
def embedded_services(request: pytest.FixtureRequest) -> str:
    """Overrides pytest-embedded's ``embedded_services``: ``serial`` unless the command line says other."""
    try:
        value = request.config.getoption("embedded_services")
    except ValueError:
        value = None
    return str(value) if value else "serial"
