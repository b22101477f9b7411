"""The GATT protocol: round trips, fuzzed decoding, loss and wrap-around accounting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tracker.devices.roller import (
    CLOCK_MOD_US,
    DEFAULT_MTU,
    Command,
    DeviceConfig,
    Packet,
    ProtocolError,
    StreamDecoder,
    decode_command,
    decode_config,
    decode_packet,
    encode_command,
    encode_config,
    encode_packet,
    samples_per_packet,
)

raw_samples = st.integers(1, 19).flatmap(
    lambda n: arrays(np.int16, (n, 6), elements=st.integers(-32768, 32767)))


@given(st.integers(0, 65535), st.integers(0, 2**32 - 1), raw_samples)
def test_packets_round_trip(seq: int, t0_us: int, raw: np.ndarray) -> None:
    packet = decode_packet(encode_packet(Packet(seq, t0_us, raw)))
    assert (packet.seq, packet.t0_us) == (seq, t0_us)
    np.testing.assert_array_equal(packet.raw, raw)


def test_default_mtu_still_carries_a_sample() -> None:
    assert samples_per_packet(DEFAULT_MTU) == 1
    assert len(encode_packet(Packet(0, 0, np.zeros((1, 6), np.int16)))) <= DEFAULT_MTU - 3
    assert samples_per_packet(247) == 19


@given(st.binary(max_size=300))
def test_any_bytes_decode_or_fail_cleanly(data: bytes) -> None:
    decoder = StreamDecoder(100)
    decoder.feed(data)  # never raises, whatever decode_packet makes of the bytes
    assert decoder.stats.packets + decoder.stats.malformed == 1


@given(st.sampled_from([25, 50, 100, 200]), st.integers(100, 300))
def test_config_round_trip(rate: int, diameter_mm: int) -> None:
    config = DeviceConfig(1, rate, 16, 2000, diameter_mm)
    assert decode_config(encode_config(config)) == config


def test_commands() -> None:
    assert decode_command(encode_command(Command.START)) == (Command.START, None)
    assert decode_command(encode_command(Command.SET_RATE, 200)) == (Command.SET_RATE, 200)
    for bad in (b"", b"\x09", b"\x03\x07\x00", b"\x01\x00"):
        with pytest.raises(ProtocolError):
            decode_command(bad)


def test_lost_packets_and_wrapping_counters() -> None:
    decoder = StreamDecoder(100)
    raw = np.zeros((5, 6), np.int16)
    t0 = CLOCK_MOD_US - 30_000  # the device clock wraps between packets
    times = []
    for i, seq in enumerate([65534, 65535, 2, 3]):  # 0 and 1 lost across the wrap
        out = decoder.feed(encode_packet(Packet(seq, t0 + i * 50_000, raw)))
        assert out is not None
        times.append(out[0][0])
    assert decoder.stats.lost == 2 and decoder.stats.packets == 4
    assert np.all(np.diff(times) > 0)
    assert decoder.feed(b"\x00\x01") is None and decoder.stats.malformed == 1
    assert decoder.stats.loss_pct == pytest.approx(100 * 2 / 6)
