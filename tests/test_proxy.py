"""Rollers through ESPHome Bluetooth proxies: the real bleak-esphome, habluetooth and
aioesphomeapi clients against a proxy that speaks ESPHome's native API on 127.0.0.1
(:mod:`firmware_sim.esphome_proxy`), the simulated rollers beneath it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aioesphomeapi.client import APIClient

from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.esphome_proxy import EsphomeProxy, ProxyThread
from firmware_sim.peripheral import Faults, SimulatedRoller
from tests import suite_clock
from tests.broker import free_port
from tracker.config import load
from tracker.core.proxy_settings import ProxyAddress
from tracker.devices.ble import BleError, Link, LinkEvents, scan
from tracker.live.radio import Radio, radio
from tracker.live.session import LiveSession, Result
from tracker.store.opening import open_store

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(1, 33))).decode()


def in_the_air(*rollers: SimulatedRoller) -> None:
    AIR.clear()
    for roller in rollers:
        AIR[roller.address] = roller


@asynccontextmanager
async def through(*proxies: EsphomeProxy, keys: tuple[str, ...] = (),
                  local: bool = False) -> AsyncIterator[Radio]:
    """The proxies up on free ports, and roller's radio through them (and the simulated
    local adapter with ``local``; else every roller is reached through a proxy)."""
    ports = [await proxy.start() for proxy in proxies]
    addresses = tuple(ProxyAddress("127.0.0.1", port, keys[i] if keys else "")
                      for i, port in enumerate(ports))
    try:
        async with radio(addresses, (SimScanner, SimClient), use_local=local) as air:
            yield air
    finally:
        for proxy in proxies:
            await proxy.stop()


async def session(tmp_path: Path, air: Radio, roller: SimulatedRoller,
                  during: Callable[[], Any] | None = None) -> Result:
    """A whole live session of ``roller`` through ``air``, stored in a fresh store."""
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    live = LiveSession(settings, open_store(tmp_path / "roller.db"), "upper_back",
                       roller.address, scanner_backend=air.scanner_backend,
                       client_backend=air.client_backend)

    async def end_with_roller() -> None:
        await roller.finished.wait()
        live.end("stopped")

    ender = asyncio.get_running_loop().create_task(end_with_roller())
    try:
        return await asyncio.wait_for(live.run(), 60)
    finally:
        ender.cancel()


def test_a_whole_session_through_a_proxy(tmp_path: Path) -> None:
    roller = SimulatedRoller(scenario="stray", seconds=60, seed=4, speed=30)
    in_the_air(roller)

    async def main() -> Result:
        async with through(EsphomeProxy("proxy-hall", default_rssi_dbm=-52)) as air:
            (seen,) = await scan(0.5, air.scanner_backend)
            assert (seen.address, seen.name, seen.rssi) == (roller.address, "roller-sim", -52)
            return await session(tmp_path, air, roller)

    result = asyncio.run(main())
    assert result.info.via.startswith("proxy-hall") and result.end_reason == "stopped"
    assert result.analysis is not None and result.link.lost == 0 and result.gaps == 0
    truth = roller.session.truth
    assert abs(result.analysis.strokes - truth.strokes) <= max(3, 0.03 * truth.strokes)
    row = open_store(tmp_path / "roller.db").sessions()[0]
    assert row.status == "complete" and row.strokes == result.analysis.strokes


def test_each_roller_goes_through_the_proxy_or_the_local_adapter_that_hears_it_best() -> None:
    near_proxy, near_adapter = "C0:FF:EE:00:00:01", "C0:FF:EE:00:00:02"
    in_the_air(*(SimulatedRoller(address=address, seconds=20, speed=5)
                 for address in (near_proxy, near_adapter)))  # the adapter hears both at -58
    proxy = EsphomeProxy("proxy-hall", rssi_dbm={near_proxy: -38, near_adapter: -85})

    async def via(air: Radio, address: str) -> str:
        link = Link(address, LinkEvents(lambda *_: None), scanner_backend=air.scanner_backend,
                    client_backend=air.client_backend)
        return (await link.probe(listen_s=0.3)).via

    async def main() -> tuple[str, str, dict[str, int]]:
        async with through(proxy, local=True) as air:
            seen = {s.address: s.rssi for s in await scan(0.5, air.scanner_backend)}
            # connecting, each scanner's own signal counts (the history keeps one, sticky)
            return await via(air, near_proxy), await via(air, near_adapter), seen

    through_proxy, through_adapter, seen = asyncio.run(main())
    assert through_proxy.startswith("proxy-hall") and through_adapter == ""  # the adapter
    assert set(seen) == {near_proxy, near_adapter}  # each as habluetooth's history has it


def test_a_fourth_roller_on_a_three_slot_proxy_is_refused_and_named() -> None:
    rollers = [SimulatedRoller(address=f"C0:FF:EE:00:00:0{n}", seconds=60, seed=n, speed=5)
               for n in range(1, 5)]
    in_the_air(*rollers)

    async def main() -> str:
        async with through(EsphomeProxy("proxy-gym", slots=3)) as air:
            stop = asyncio.Event()
            live = [asyncio.Event() for _ in rollers[:3]]

            def link(address: str, on_live: asyncio.Event | None = None) -> Link:
                def state(now: str, _: int) -> None:
                    if now == "live" and on_live is not None:
                        on_live.set()

                return Link(address, LinkEvents(lambda *_: None, state),
                            scanner_backend=air.scanner_backend,
                            client_backend=air.client_backend)

            running = [asyncio.ensure_future(link(r.address, up).run(stop))
                       for r, up in zip(rollers, live, strict=False)]
            await asyncio.wait_for(asyncio.gather(*(up.wait() for up in live)), 30)
            try:
                await asyncio.wait_for(link(rollers[3].address).run(stop), 30)
            except BleError as exc:
                return str(exc)
            finally:
                stop.set()
                await asyncio.gather(*running)
            raise AssertionError("the fourth roller was not refused")

    said = asyncio.run(main())
    assert "\n" not in said and said.startswith("C0:FF:EE:00:00:04 refused")
    assert "proxy-gym" in said and "all 3 in use" in said


def test_a_proxy_another_client_holds_is_said_in_one_line() -> None:
    in_the_air(SimulatedRoller(seconds=10))

    async def main() -> str:
        proxy = EsphomeProxy("proxy-ha")
        port = await proxy.start()
        other = APIClient("127.0.0.1", port, None, client_info="Home Assistant")
        await other.connect(login=True)
        other.subscribe_bluetooth_le_raw_advertisements(lambda _: None)
        try:
            async with radio((ProxyAddress("127.0.0.1", port),), use_local=False):
                raise AssertionError("a proxy held by another client was used")
        except BleError as exc:
            return str(exc)
        finally:
            await other.disconnect()
            await proxy.stop()

    said = asyncio.run(main())
    assert "\n" not in said and "another API client holds its Bluetooth" in said
    assert "give roller a proxy of its own" in said


def test_roller_keeps_its_proxy_when_another_client_asks_later() -> None:
    in_the_air(SimulatedRoller(seconds=10))

    async def main() -> str:
        async with through(proxy := EsphomeProxy("proxy-own")) as air:
            other = APIClient("127.0.0.1", proxy.port, None)
            await other.connect(login=True)
            other.subscribe_bluetooth_le_raw_advertisements(lambda _: None)
            await other.device_info()  # the proxy has refused it by now
            await other.disconnect()
            assert air.proxies is not None
            (ours,) = air.proxies.proxies
            assert len(await scan(0.3, air.scanner_backend)) == 1
            return ours.says()

    assert asyncio.run(main()).endswith("3 of 3 connection slots free, no other client holds it")


def test_the_session_moves_on_when_the_stronger_proxy_goes_away(tmp_path: Path) -> None:
    roller = SimulatedRoller(seconds=60, seed=5, speed=10)
    in_the_air(roller)
    near = EsphomeProxy("proxy-near", default_rssi_dbm=-48)
    far = EsphomeProxy("proxy-far", default_rssi_dbm=-77)

    async def main() -> Result:
        async with through(near, far) as air:
            asyncio.get_running_loop().call_later(2.0, asyncio.ensure_future, near.stop())
            return await session(tmp_path, air, roller)

    result = asyncio.run(main())
    assert result.gaps == 1 and result.info.via.startswith("proxy-far")
    assert result.analysis is not None and result.end_reason == "stopped"
    store = open_store(tmp_path / "roller.db")
    (row,) = store.sessions()
    raw = store.raw_samples(row.id)
    assert row.status == "complete" and raw[-1, 0] - raw[0, 0] > 58.0  # on to the end


def test_notifications_a_proxy_drops_show_in_the_link_figures(tmp_path: Path) -> None:
    roller = SimulatedRoller(seconds=40, seed=6, speed=20)
    in_the_air(roller)
    proxy = EsphomeProxy("proxy-wifi", drop=0.05, seed=1)

    async def main() -> Result:
        async with through(proxy) as air:
            return await session(tmp_path, air, roller)

    result = asyncio.run(main())
    assert proxy.dropped > 0 and result.link.lost == proxy.dropped
    assert 2.0 < result.link.loss_pct < 10.0


def test_the_wrong_encryption_key_is_said_in_one_line() -> None:
    in_the_air(SimulatedRoller(seconds=10))

    async def main(key: str) -> str:
        try:
            async with through(EsphomeProxy("proxy-key", noise_psk=KEY), keys=(key,)) as air:
                return str(len(await scan(0.3, air.scanner_backend)))
        except BleError as exc:
            return str(exc)

    assert asyncio.run(main(KEY)) == "1"  # the right key: encrypted all the way
    said = asyncio.run(main(OTHER_KEY))
    assert "\n" not in said and "its encryption key is not the one in [bluetooth] proxies" in said


def test_roller_scan_pair_and_doctor_through_a_proxy(roller: Any, tmp_path: Path) -> None:
    in_the_air(SimulatedRoller(seconds=30))
    with ProxyThread(EsphomeProxy("proxy-den", default_rssi_dbm=-61, drop=0.05)) as port:
        env = {"ROLLER_BLUETOOTH_PROXIES": f'["127.0.0.1:{port}"]',
               "ROLLER_DB": str(tmp_path / "r.db")}
        scanned = roller("scan", "--timeout", "1", env=env)
        assert scanned.returncode == 0, scanned.stderr
        assert "C0:FF:EE:00:00:01   -61 dBm  roller-sim" in scanned.stdout
        paired = roller("pair", env=env)
        assert paired.returncode == 0, paired.stderr
        doctor = roller("doctor", env=env)
    lines = doctor.stdout.splitlines()
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr  # the dropped notifications
    assert any(line.startswith("[ok] proxy proxy-den (127.0.0.1:") and
               "ESPHome 2025.11.2, 3 of 3 connection slots free, no other client holds it"
               in line for line in lines), lines
    (link,) = [line for line in lines if "link through proxy proxy-den" in line]
    assert link.startswith("[!!]") and "lost" in link and "Ethernet" in link


def test_a_dropped_link_through_a_proxy_is_one_outage(tmp_path: Path) -> None:
    roller = SimulatedRoller(seconds=50, seed=5, speed=20, faults=Faults(drops=((20.0, 3.0),)))
    in_the_air(roller)

    async def main() -> Result:
        async with through(EsphomeProxy("proxy-hall")) as air:
            return await session(tmp_path, air, roller)

    result = asyncio.run(main())
    assert result.gaps == 1 and result.analysis is not None


@pytest.mark.parametrize("command", ["track", "gateway"])
def test_track_and_the_gateway_record_a_session_through_a_proxy(
        roller: Any, tmp_path: Path, command: str) -> None:
    """The commands as people run them: a roller paired through the proxy, then a session
    through it until the command is told to stop (SIGINT for track, SIGTERM for the
    gateway), stored whole."""
    in_the_air(SimulatedRoller(seconds=300, speed=5, seed=8))
    db = tmp_path / "r.db"
    with ProxyThread(EsphomeProxy("proxy-room")) as port:
        env = {"ROLLER_BLUETOOTH_PROXIES": f'["127.0.0.1:{port}"]'}
        paired = roller("--db", str(db), "pair", env=env)
        assert paired.returncode == 0, paired.stderr
        proc = subprocess.Popen(
            [sys.executable, "-m", "tracker", "--db", str(db), command,
             *(["--json"] if command == "track" else [])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **suite_clock.passed_on(), "HOME": str(tmp_path),
                 "XDG_CONFIG_HOME": str(tmp_path / "config"), **env})
        time.sleep(8.0)
        proc.send_signal(signal.SIGINT if command == "track" else signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    (row,) = open_store(db).sessions()
    assert row.status == "complete" and row.strokes > 0, err
    if command == "track":
        summary = json.loads(out)
        assert summary["end_reason"] == "stopped" and summary["link"]["loss_pct"] == 0


def test_a_proxy_that_does_not_answer_leaves_the_local_adapter() -> None:
    in_the_air(SimulatedRoller(seconds=10))
    unused_tcp_port = free_port()

    async def main() -> tuple[str, int]:
        gone = (ProxyAddress("127.0.0.1", unused_tcp_port),)
        async with radio(gone, (SimScanner, SimClient)) as air:
            assert air.proxies is not None
            (proxy,) = air.proxies.proxies
            return proxy.says(), len(await scan(0.3, air.scanner_backend))

    said, seen = asyncio.run(main())
    assert said == f"not reachable: nothing listens on 127.0.0.1:{unused_tcp_port} (is it on " \
                   "the network?)" and seen == 1


def test_the_wrong_key_on_the_command_line_is_one_line(roller: Any, tmp_path: Path) -> None:
    in_the_air(SimulatedRoller(seconds=10))
    with ProxyThread(EsphomeProxy("proxy-key", noise_psk=KEY)) as port:
        env = {"ROLLER_BLUETOOTH_PROXIES": f'[{{ host = "127.0.0.1", port = {port}, '
                                           f'key = "{OTHER_KEY}" }}]'}
        scanned = roller("--db", str(tmp_path / "r.db"), "scan", "--timeout", "0.5", env=env)
    assert scanned.returncode == 1 and "Traceback" not in scanned.stderr
    (line,) = scanned.stderr.strip().splitlines()
    assert f"127.0.0.1:{port}: its encryption key is not the one in [bluetooth] proxies" in line
