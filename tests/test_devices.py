"""Device profiles: byte layouts against the manufacturers' documentation, fuzzed decoders,
recorded streams of each profile decoding to the same samples, and the arrival clock."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from firmware_sim.firmware import byte_stream
from firmware_sim.imu import Conditions
from firmware_sim.person import BRISK
from firmware_sim.session import simulate
from tracker.devices import PROFILES, identify, movesense, witmotion
from tracker.devices.clock import ArrivalClock

STREAMS = Path(__file__).parent / "data" / "streams"
finite = st.floats(-1000, 1000, allow_nan=False, width=32)


def test_witmotion_commands_are_the_documented_bytes() -> None:
    assert bytes.fromhex("ffaa6988b5") == witmotion.UNLOCK
    assert bytes.fromhex("ffaa000000") == witmotion.SAVE
    assert witmotion.configure(100) == (witmotion.UNLOCK, bytes.fromhex("ffaa030900"),
                                        witmotion.SAVE)
    assert witmotion.command(witmotion.REG_RATE, 0x0B) == bytes.fromhex("ffaa030b00")  # 200 Hz


def test_witmotion_frame_scales() -> None:
    # 55 61, then ax ay az wx wy wz roll pitch yaw, little-endian int16
    raw = [16384, -16384, 2048, 16384, 0, -32768, 16384, 0, 0]
    frame = bytes([0x55, 0x61]) + struct.pack("<9h", *raw)
    t, accel, gyro = witmotion.WitmotionDecoder(100).feed(frame, 5.0)  # type: ignore[misc]
    np.testing.assert_allclose(accel, [[8.0, -8.0, 1.0]])
    np.testing.assert_allclose(gyro, [[1000.0, 0.0, -2000.0]])
    assert t[0] == 5.0


def test_witmotion_register_replies_are_kept_torn_and_garbage_counted_apart() -> None:
    decoder = witmotion.WitmotionDecoder(100)
    # the WT901BLECL manual's own example: magnetic field registers read back (FF AA 27 3A 00)
    # answered by "55 71 3A 00 68 01 69 00 7A 00 ...": x=360, y=105, z=122
    reply = bytes.fromhex("5571 3a00 6801 6900 7a00 0000 0000 0000 0000 0000".replace(" ", ""))
    assert decoder.feed(reply, 0.0) is None
    assert [decoder.registers[r] for r in (0x3A, 0x3B, 0x3C)] == [360, 105, 122]
    good = witmotion.encode_frames(np.zeros((1, 3)), np.zeros((1, 3)), np.zeros((1, 3)))[0]
    samples = decoder.feed(b"\x00\x13" + good + good[:7], 0.01)  # torn at both ends
    assert samples is not None and len(samples[0]) == 1
    assert decoder.feed(good + b"\x01\x02" + good, 0.02) is not None  # garbage between
    s = decoder.stats
    assert (s.unknown, s.torn, s.malformed, s.packets) == (1, 2, 1, 3)


@given(arrays(np.float64, (5, 9), elements=st.floats(-0.999, 0.999)))
def test_witmotion_frames_round_trip(values: np.ndarray) -> None:
    accel, gyro, angle = values[:, :3] * 16, values[:, 3:6] * 2000, values[:, 6:] * 180
    frames = witmotion.encode_frames(accel, gyro, angle)
    assert all(len(f) == 20 and f[:2] == b"\x55\x61" for f in frames)
    found = witmotion.decode_frames(b"".join(frames))
    assert (found.replies, found.malformed, found.torn) == (0, 0, 0)
    assert found.times_s == [None] * 5
    np.testing.assert_allclose(found.raw[:, :3] / 32768 * 16, accel, atol=16 / 32768)
    np.testing.assert_allclose(found.raw[:, 3:6] / 32768 * 2000, gyro, atol=2000 / 32768)


@given(st.lists(st.binary(max_size=60), max_size=20))
def test_witmotion_decoder_survives_any_bytes(notifications: list[bytes]) -> None:
    decoder = witmotion.WitmotionDecoder(100)
    for i, data in enumerate(notifications):
        samples = decoder.feed(data, i * 0.01)
        assert samples is None or np.isfinite(samples[1]).all()


def test_movesense_commands_are_the_documented_bytes() -> None:
    # as the manufacturer's clients write it: a leading slash, no NUL (gatt_sensordata_app's
    # python_client: bytearray([1, 99]) + bytearray("/Meas/IMU9/104", "utf-8"))
    assert movesense.subscribe(104, 0x72) == b"\x01\x72/Meas/IMU6/104"
    assert movesense.unsubscribe(0x72) == b"\x02\x72"
    assert movesense.parse_command(b"\x01\x63/Meas/IMU6/52\0") == (1, 0x63, "/Meas/IMU6/52")


def test_movesense_data_layout() -> None:
    # 02 ref, uint32 ms, then every acceleration (m/s^2), then every rate (deg/s)
    accel = [[0.0, 0.0, 9.80665], [9.80665, 0.0, 0.0]]
    gyro = [[10.0, 0.0, 0.0], [0.0, -20.0, 0.0]]
    frame = struct.pack("<BBI12f", 2, 0x72, 1000, *np.ravel(accel), *np.ravel(gyro))
    t, a, g = movesense.MovesenseDecoder(26).feed(frame, 0.0)  # type: ignore[misc]
    np.testing.assert_allclose(a, [[0, 0, 1], [1, 0, 0]], atol=1e-6)
    np.testing.assert_allclose(g, gyro)
    np.testing.assert_allclose(t, [1.0, 1.0 + 1 / 26])  # 26 Hz: 2 samples a batch


@given(st.integers(0, 2**32 - 1), arrays(np.float64, (8, 6), elements=finite))
def test_movesense_round_trip(t_ms: int, values: np.ndarray) -> None:
    first, second = movesense.encode_data(t_ms, values[:, :3], values[:, 3:])  # 198 bytes
    assert (len(first), len(second), second[0]) == (152, 48, movesense.DATA_PART2)
    reference, stamp, accel, gyro = movesense.decode_data(first + second[2:])
    assert (reference, stamp) == (movesense.REFERENCE, t_ms)
    np.testing.assert_allclose(np.hstack([accel, gyro]), values.astype(np.float32))


@given(st.lists(st.binary(max_size=220), max_size=20))
def test_movesense_decoder_survives_any_bytes(notifications: list[bytes]) -> None:
    decoder = movesense.MovesenseDecoder(104)
    for data in notifications:
        samples = decoder.feed(data, 0.0)
        assert samples is None or np.isfinite(samples[1]).all()
    s = decoder.stats
    assert s.packets + s.malformed + s.unknown <= len(notifications)


def test_movesense_counts_lost_batches_learns_its_rate_and_unwraps_its_clock() -> None:
    decoder = movesense.MovesenseDecoder(104)
    true_period = 1 / 104.6  # no crystal is exact
    zero = np.zeros((8, 3))
    start = 2**32 - 3000  # the millisecond counter wraps within the session
    for batch in [*range(0, 300), *range(302, 400)]:  # two batches lost
        t_ms = round(start + batch * 8 * true_period * 1000) % 2**32
        for part in movesense.encode_data(t_ms, zero, zero):
            last = decoder.feed(part, 0.0)
    assert decoder.stats.lost == 2 and decoder.stats.malformed == 0
    assert decoder.period_s == pytest.approx(true_period, rel=1e-3)
    assert last is not None and last[0][0] > 2**32 / 1000  # unwrapped, not back at zero
    assert [decoder.feed(part, 0.0) for part in movesense.encode_data(5, zero, zero, 9)] == \
        [None, None]
    assert decoder.stats.unknown == 1


def test_profiles_are_recognised_by_service_or_name() -> None:
    assert identify("anything", [PROFILES["roller"].service_uuid]) is PROFILES["roller"]
    assert identify("WT901BLE68", []) is PROFILES["witmotion"]
    assert identify(None, [witmotion.SERVICE_UUID.upper()]) is PROFILES["witmotion"]
    assert identify("Movesense 174630000192", []) is PROFILES["movesense"]
    assert identify("JBL Flip", ["0000180f-0000-1000-8000-00805f9b34fb"]) is None
    assert PROFILES["movesense"].nearest_rate(100) == 104
    assert PROFILES["witmotion"].nearest_rate(100) == 100


def _decode(profile: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    decoder = PROFILES[profile].decoder(100)
    parts = []
    for line in (STREAMS / f"{profile}.stream").read_text().splitlines():
        arrival, data = line.split()
        samples = decoder.feed(bytes.fromhex(data), float(arrival))
        if samples is None:
            assert profile == "movesense"  # the first part of a batch split in two
            continue
        parts.append(samples)
    assert decoder.stats.lost == decoder.stats.malformed == decoder.stats.unknown == 0
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))  # type: ignore[return-value]


def test_recorded_streams_of_every_profile_decode_to_the_same_samples() -> None:
    """tests/data/streams: ``python -m firmware_sim record-streams``, 4 s of one session."""
    clean = Conditions(sample_rate_hz=100.0, diameter_cm=15.0)
    truth = simulate("upper_back", "clean", 4.0, 11, clean, person=BRISK).samples
    decoded = {name: _decode(name) for name in PROFILES}
    for name, (t, accel, gyro) in decoded.items():
        n = len(t)
        np.testing.assert_allclose(accel, truth[:n, 1:4], atol=16 / 32768, err_msg=name)
        np.testing.assert_allclose(gyro, truth[:n, 4:7], atol=2000 / 32768, err_msg=name)
        # The WitMotion has only arrival times: its clock needs its first second to settle.
        settled = truth[:n, 0] - truth[0, 0] > (1.0 if name == "witmotion" else -1.0)
        offset = np.median(t - truth[:n, 0])
        assert np.abs(t - truth[:n, 0] - offset)[settled].max() < 0.004, name
    assert min(len(d[0]) for d in decoded.values()) >= 380


def test_the_recorded_streams_are_what_the_simulator_makes() -> None:
    clean = Conditions(sample_rate_hz=100.0, diameter_cm=15.0)
    samples = simulate("upper_back", "clean", 4.0, 11, clean, person=BRISK).samples
    for name in PROFILES:
        lines = [f"{t:.6f} {data.hex()}" for t, data in byte_stream(name, samples)]
        assert lines == (STREAMS / f"{name}.stream").read_text().splitlines(), name


def test_the_arrival_clock_removes_radio_jitter_and_learns_the_rate() -> None:
    rng = np.random.default_rng(1)
    true_hz = 101.3  # a cheap oscillator, 1.3 % fast
    k = np.arange(12000)
    keep = ~((k >= 6000) & (k < 6120))  # a 1.2 s outage
    emitted = 50.0 + k[keep] / true_hz
    # delivered at the next 30 ms connection event, sometimes one or two events later
    events = np.ceil(emitted / 0.03) + rng.choice([0, 0, 0, 1, 2], len(emitted))
    arrivals = np.maximum.accumulate(events * 0.03 + rng.uniform(0, 0.002, len(emitted)))
    clock = ArrivalClock(100)
    stamped, lost = zip(*(clock.stamp(a) for a in arrivals), strict=True)
    error = np.array(stamped) - emitted
    error -= np.median(error)  # a constant delay moves nothing
    settled = emitted > 60.0  # the fit has had 10 s to learn the rate
    assert np.abs(error[settled]).max() < 0.006  # a slow wander of the fitted line
    steps = np.diff(stamped)[settled[1:]]
    steps = steps[steps < 0.05]  # but the outage
    assert np.std(steps) < 1e-4 < np.std(np.diff(arrivals))  # evenly spaced, unlike arrivals
    assert sum(lost) == 120
    assert clock.rate_hz == pytest.approx(true_hz, rel=2e-4)


@given(st.lists(st.floats(0.0, 0.5), min_size=1, max_size=300), st.sampled_from([10, 50, 100]))
def test_arrival_clock_times_always_move_forward(steps: list[float], rate_hz: int) -> None:
    clock = ArrivalClock(rate_hz)
    stamped = [clock.stamp(a) for a in np.cumsum(steps)]
    times = [t for t, _ in stamped]
    assert np.all(np.diff(times) > 0)
    assert all(lost >= 0 for _, lost in stamped)
