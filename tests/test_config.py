"""Configuration layering: defaults, file, environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.config import ConfigError, defaults_text, load


def test_defaults_document_every_key() -> None:
    lines = defaults_text().splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[number - 1].startswith("#"), f"undocumented key: {line}"


def test_layers_apply_in_order(tmp_path: Path) -> None:
    file = tmp_path / "roller.toml"
    file.write_text("[user]\nheight_cm = 160\n[estimator]\npause_min_s = 4\n")
    settings = load(file, env={"ROLLER_ESTIMATOR_PAUSE_MIN_S": "5.5"})
    assert settings.body.height_cm == 160.0
    assert settings.estimator.pause_min_s == 5.5


def test_missing_user_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load(env={}).body.height_cm == 175.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[mqttt]\nport = 1\n", "unknown section"),
        ("[user]\nheight_cm = 'tall'\n", "must be a float"),
        ("[user]\nheight_cm = 20\n", "height_cm must be 50 to 272"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "roller.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load(file, env={})


def test_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No such file"):
        load(tmp_path / "missing.toml", env={})
