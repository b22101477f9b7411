"""The versioned formats roller writes and reads, each module named for the format it is.

:mod:`~tracker.core.formats.roller_imu` is a recording (``roller-imu v1``: CSV with a
commented header); :mod:`~tracker.core.formats.roller_analysis` is what an analysis says
(``roller-analysis/1``, one JSON object); :mod:`~tracker.core.formats.roller_session` is a
finished session as one message between stores (``roller-session/1``). Each is documented in
``docs/recording-format.md`` or ``docs/scale.md``; a change to one is a new version.

Two are other people's formats, written for their software (docs/clinician.md):
:mod:`~tracker.core.formats.fit` (a Garmin FIT activity) and :mod:`~tracker.core.formats.fhir`
(an HL7 FHIR R4 Bundle), both from :mod:`~tracker.core.formats.activity`.
"""
