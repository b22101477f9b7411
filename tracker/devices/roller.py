"""Our own roller firmware's profile: the GATT protocol of :mod:`tracker.protocol`."""

from __future__ import annotations

from tracker import protocol as p
from tracker.devices.base import Profile

PROFILE = Profile(
    name="roller",
    label="roller protocol v1",
    service_uuid=p.SERVICE_UUID,
    notify_uuid=p.IMU_DATA_UUID,
    write_uuid=p.CONTROL_UUID,
    rates_hz=p.RATES_HZ,
    name_prefixes=("roller",),
    configure=lambda rate_hz: (p.encode_command(p.Command.SET_RATE, rate_hz),),
    start=lambda rate_hz: (p.encode_command(p.Command.START),),
    stop=lambda: (p.encode_command(p.Command.STOP),),
    decoder=p.StreamDecoder,
    config_uuid=p.CONFIG_UUID,
    axes_known=True,
)
