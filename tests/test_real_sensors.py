"""Real sensors, byte for byte: bytes captured from real devices and the manufacturers' own
examples, with the values their sources state; and what the manufacturers' code does (split
batches, status replies, rate codes, timed frames), through bleak with the simulator beneath.

Each captured byte sequence below is copied from the source named beside it, with the values
that source states; none of their code is used.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.firmware import MovesenseFirmware, WitmotionFirmware
from firmware_sim.peripheral import SimulatedRoller
from tracker.devices import PROFILES, movesense, witmotion
from tracker.devices.base import G_M_S2
from tracker.devices.ble import Link, LinkEvents

# -- WitMotion --------------------------------------------------------------------------

# byy-yby/pingpong-rtgr, tests/test_imu.py @ c9a36a63: an 80-byte notification (4 frames)
# "from a real module" (a WT9011DCL-BT5.0, a sibling of the BWT901BLECL), first frame stated
# as Az ~ 1.008 g, yaw ~ 70.26 deg; and 40 bytes (2 frames) after setting 50 Hz.
WIT_80 = bytes.fromhex(
    "5561fcffefff110800000000000098ff0d00f831" "5561fdffecff0e0800000000000098ff0d00f831"
    "5561fdffecff0e0800000000000098ff0d00f831" "5561feffe9ff0f0800000000000098ff0d00f831")
WIT_40 = bytes.fromhex(
    "5561f3fff3ff0f0800000000000098ff0d00f831" "5561f9fff1ff100800000000000098ff0d00f831")
# SakuzyPeng/PoseBridge, docs/measurements/2026-09-19-ble-exploration.json @ 831ab9a2: a
# BWT901BLECL 5.0's reply to FF AA 27 2E 00, with the register words it states.
WIT_VERSION = bytes.fromhex("55712e003b3300000f01010315304803070077fe")
WIT_VERSION_WORDS = [13115, 0, 271, 769, 12309, 840, 7, 65143]
# zhuyetuo/witmotion_imu, data/test/WIT18.TXT @ cdd2591a: 28-byte frames of a WT901SDCL,
# whose wit_parse.py (@ 049de583) states the layout: bytes 20-25 year - 2000, month, day,
# hour, minute, second; 26-27 milliseconds, uint16 little-endian.
WIT_TIMED = [bytes.fromhex(h) for h in (
    "5561d8fd3905de05bb01ff00fbffab0fb1ed808a1a06160e29011903",
    "55615afd2605250686001fffcd003910e1ed8c8a1a06160e29014b03",
    "5561e9fd53058b05ae00c8ff70ffe91043ee328a1a06160e29017d03")]


def test_real_witmotion_notifications_decode_to_what_their_source_states() -> None:
    decoder = witmotion.WitmotionDecoder(100)
    t, accel, gyro = decoder.feed(WIT_80, 1.0)  # type: ignore[misc]
    assert len(t) == 4 and accel[0, 2] == pytest.approx(1.008, abs=0.001)
    assert np.all(gyro == 0) and np.all(np.diff(t) > 0)
    t, accel, _ = decoder.feed(WIT_40, 1.04)  # type: ignore[misc]
    assert len(t) == 2 and np.allclose(accel[:, 2], 1.008, atol=0.001)
    assert (decoder.stats.packets, decoder.stats.malformed, decoder.stats.torn) == (6, 0, 0)
    found = witmotion.decode_frames(WIT_80)
    angle_deg = found.raw[0, 6:9] / 32768 * 180  # we do not use the angle; its source does
    assert angle_deg[2] == pytest.approx(70.26, abs=0.01)


def test_a_real_register_reply_gives_the_eight_registers_it_states() -> None:
    decoder = witmotion.WitmotionDecoder(100)
    assert decoder.feed(WIT_VERSION, 0.0) is None
    assert [decoder.registers[0x2E + k] for k in range(8)] == WIT_VERSION_WORDS
    assert decoder.stats.unknown == 1 and decoder.stats.malformed == 0


def test_real_28_byte_frames_are_timed_by_their_chip_time() -> None:
    found = witmotion.decode_frames(b"".join(WIT_TIMED))
    assert len(found.raw) == 3 and (found.malformed, found.torn) == (0, 0)
    first = datetime(2026, 6, 22, 14, 41, 1, 793000, tzinfo=UTC).timestamp()
    assert found.times_s == pytest.approx([first, first + 0.05, first + 0.1])  # 20 Hz
    decoder = witmotion.WitmotionDecoder(20)
    for frame in (WIT_TIMED[0], WIT_TIMED[2]):  # the middle one lost on the way
        samples = decoder.feed(frame, 99.0)  # arrival times are not used for these
        assert samples is not None
    assert decoder.stats.lost == 1 and decoder.stats.malformed == 0


def test_rate_codes_are_the_manufacturers() -> None:
    # REG.h (WitStandardProtocol_JY901): RRATE_200HZ 0x0b; ESPHome and the BT50 manuals: 0x0A
    assert witmotion.configure(200)[1] == bytes.fromhex("ffaa030b00")
    assert witmotion.retry_rate(200) == (witmotion.set_rate(0x0A),)
    assert witmotion.retry_rate(100) == ()
    assert witmotion.read(witmotion.REG_RATE) == bytes.fromhex("ffaa270300")  # the C# SDK's


@given(st.lists(st.binary(max_size=90), max_size=12), st.sampled_from([10, 100, 200]))
def test_the_witmotion_decoder_never_raises(notifications: list[bytes], rate_hz: int) -> None:
    decoder = witmotion.WitmotionDecoder(rate_hz)
    for i, data in enumerate(notifications):
        samples = decoder.feed(b"\x55\x61" + data if i % 2 else data, i * 0.04)
        assert samples is None or (np.isfinite(samples[0]).all() and
                                   np.isfinite(samples[1]).all())
    witmotion.advice(decoder, rate_hz)


# -- Movesense ---------------------------------------------------------------------------

# sensein/movesense-py, tests/fixtures/validation/fixture.json @ 9d6ab4f8: /Meas/IMU6/52
# captured from a real Movesense ("packet_hex", the bytes after type and reference), beside
# the sensor's own log decode ("json_entry").
MOVESENSE_IMU6_52 = bytes.fromhex(
    "aca1020094b578bf399b8840cdb20d4155ff7cbf6a60884092c70c4182627cbfa2e988405da00c418bf871bf"
    "71248940c38c0c4148e17abf713daabf3333b3bec3f568bf713daabf3e0ad7beae4721bff628bcbf3e0ad7be"
    "ae4721bf3333b3bf3e0ad7be")
STATED_TIMESTAMP_MS = 172460
STATED_ACC = [[-0.9715206623077393, 4.268948078155518, 8.856152534484863],
              [-0.9882710576057434, 4.2617692947387695, 8.798723220825195],
              [-0.9858781099319458, 4.278519630432129, 8.789151191711426],
              [-0.9451987147331238, 4.285698413848877, 8.7843656539917]]
STATED_GYRO = [[-0.9800000190734863, -1.3300000429153442, -0.3499999940395355],
               [-0.9100000262260437, -1.3300000429153442, -0.42000001668930054],
               [-0.6299999952316284, -1.4700000286102295, -0.42000001668930054],
               [-0.6299999952316284, -1.399999976158142, -0.42000001668930054]]


def test_a_real_movesense_batch_decodes_to_the_sensors_own_values() -> None:
    notification = bytes([movesense.DATA, movesense.REFERENCE]) + MOVESENSE_IMU6_52
    t, accel_g, gyro = movesense.MovesenseDecoder(52).feed(notification, 0.0)  # type: ignore[misc]
    assert t[0] == STATED_TIMESTAMP_MS / 1000
    np.testing.assert_array_equal(accel_g * G_M_S2, np.array(STATED_ACC))
    np.testing.assert_array_equal(gyro, np.array(STATED_GYRO))


def _batch(t_ms: int = 1000) -> tuple[bytes, np.ndarray]:
    """A whole IMU6 batch at 104 Hz (8 samples, 198 bytes joined) and its values."""
    values = np.arange(48, dtype=np.float64).reshape(8, 6) - 20.5
    first, second = movesense.encode_data(t_ms, values[:, :3], values[:, 3:])
    return first + second[2:], values


def test_a_batch_split_at_every_possible_point_decodes_whole() -> None:
    whole, values = _batch()
    assert len(whole) == 198
    for cut in range(2, len(whole)):  # part 2 repeats type and reference, then goes on
        decoder = movesense.MovesenseDecoder(104)
        assert decoder.feed(whole[:cut], 0.0) is None
        samples = decoder.feed(bytes([movesense.DATA_PART2, whole[1]]) + whole[cut:], 0.0)
        assert samples is not None, cut
        np.testing.assert_allclose(np.hstack([samples[1] * G_M_S2, samples[2]]), values)
        assert decoder.stats.malformed == decoder.stats.lost == 0, cut


def test_a_lost_half_loses_one_batch_and_is_counted_once() -> None:
    decoder = movesense.MovesenseDecoder(104)
    period_ms = 8 * 1000 / 104
    parts = [movesense.encode_data(round(k * period_ms), np.zeros((8, 3)), np.zeros((8, 3)))
             for k in range(4)]
    stream = [*parts[0], parts[1][1], *parts[2], parts[3][0], *parts[3]]  # 1's first half lost
    got = [decoder.feed(data, 0.0) for data in stream]
    assert sum(s is not None for s in got) == 3  # batches 0, 2 and 3
    assert decoder.stats.lost == 1 and decoder.stats.malformed == 0


@given(st.lists(st.tuples(st.sampled_from([1, 2, 3, 4, 9]), st.binary(max_size=200)),
                max_size=16))
def test_the_joiner_never_raises(notifications: list[tuple[int, bytes]]) -> None:
    decoder = movesense.MovesenseDecoder(104)
    for kind, rest in notifications:
        samples = decoder.feed(bytes([kind, movesense.REFERENCE]) + rest, 0.0)
        assert samples is None or np.isfinite(samples[1]).all()
    movesense.advice(decoder, 104)


@pytest.mark.parametrize(("reply", "status"), [
    # gatt_sensordata_app's firmware: no free slot, 507 written big-endian
    (bytes([1, 0x72, 0x01, 0xFB]), 507),
    # newer firmware (movesense-py reads it so): little-endian 200
    (bytes([1, 0x72, 0xC8, 0x00]), 200),
    # the sample's HELLO reply: text, no status
    (bytes([1, 123]) + b"Hello", "Hello"),
])
def test_command_results_in_both_forms(reply: bytes, status: int | str) -> None:
    decoder = movesense.MovesenseDecoder(104)
    assert decoder.feed(reply, 0.0) is None
    assert decoder.status == status
    assert decoder.stats.malformed == 0
    refused = movesense.advice(decoder, 104)
    assert bool(refused) is (status == 507)
    assert not refused or "507 (no free subscription slot)" in refused[0]


# -- through bleak, with the simulator beneath --------------------------------------------

def _probe(roller: SimulatedRoller, profile: str, rate_hz: int, listen_s: float = 1.5
           ) -> Link:
    async def main() -> Link:
        AIR.clear()
        AIR[roller.address] = roller
        link = Link(roller.address, LinkEvents(lambda *_: None), rate_hz,
                    scanner_backend=SimScanner, client_backend=SimClient,
                    profile=PROFILES[profile], clock=roller.air_time)
        await link.probe(listen_s)
        return link

    return asyncio.run(main())


@pytest.mark.parametrize(("takes", "in_force", "register"), [
    (0x0B, 200, 0x0B),  # as REG.h and the SDKs
    (0x0A, 200, 0x0A),  # as ESPHome and the BT50 manuals: the first code does not take
    (None, 10, 0x06),  # neither: it keeps its factory 10 Hz, and says so
])
def test_the_rate_is_read_back_and_the_other_code_tried(takes: int | None, in_force: int,
                                                        register: int) -> None:
    roller = SimulatedRoller(seconds=30, speed=1, profile="witmotion")
    firmware = roller.firmware
    assert isinstance(firmware, WitmotionFirmware)
    firmware.takes = {0x06: 10, 0x09: 100, **({takes: 200} if takes else {})}
    link = _probe(roller, "witmotion", 200)
    assert link.info.rate_hz == in_force and firmware.registers[0x03] == register
    advice = link.advice()
    assert bool(advice) is (in_force != 200)
    assert not advice or "runs at 10 Hz" in advice[0]


def test_28_byte_frames_through_bleak() -> None:
    roller = SimulatedRoller(seconds=30, speed=1, profile="witmotion")
    assert isinstance(roller.firmware, WitmotionFirmware)
    roller.firmware.frame_bytes = witmotion.TIMED_FRAME_SIZE
    stats = _probe(roller, "witmotion", 100).decoder.stats
    assert stats.packets > 50 and stats.malformed == stats.torn == stats.lost == 0


def test_a_refused_movesense_subscription_is_said_with_its_status() -> None:
    roller = SimulatedRoller(seconds=30, speed=1, profile="movesense")
    assert isinstance(roller.firmware, MovesenseFirmware)
    roller.firmware.free_slots = 0
    link = _probe(roller, "movesense", 104, listen_s=0.5)
    assert link.decoder.stats.packets == 0
    assert any("507 (no free subscription slot)" in a for a in link.advice())
