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


def test_bluetooth_proxies_from_the_file_and_the_environment(tmp_path: Path) -> None:
    from tracker.core.proxy_settings import ProxyAddress

    key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    path = tmp_path / "roller.toml"
    path.write_text(f'[bluetooth]\nproxies = [{{ host = "proxy-gym.local", key = "{key}" }}, '
                    '"10.0.0.7:6054"]\n', encoding="utf-8")
    assert load(path, env={}).proxies == (ProxyAddress("proxy-gym.local", 6053, key),
                                          ProxyAddress("10.0.0.7", 6054))
    assert load(env={}).proxies == ()
    env = {"ROLLER_BLUETOOTH_PROXIES": '[{ host = "127.0.0.1", port = 7000 }]'}
    assert load(env=env).proxies == (ProxyAddress("127.0.0.1", 7000),)


@pytest.mark.parametrize(("proxies", "message"), [
    ('[{ host = "a", port = 0 }]', "entry 1: port must be 1-65535, not 0"),
    ('["a:x"]', "entry 1: port must be 1-65535, not 'x'"),
    ('[{ host = "a b" }]', "entry 1: host must be a name or address"),
    ('[{ host = "a", key = "short" }]', "entry 1: key must be the proxy's API encryption key"),
    ('[{ host = "a", psk = "x" }]', "entry 1: unknown key 'psk' (host, port, key)"),
    ('["a", { host = "a" }]', "[bluetooth] proxies names one proxy twice"),
    ('"a"', "[bluetooth] proxies must be a list"),
])
def test_bad_bluetooth_proxies_are_one_line(tmp_path: Path, proxies: str, message: str) -> None:
    path = tmp_path / "roller.toml"
    path.write_text(f"[bluetooth]\nproxies = {proxies}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path, env={})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_proxies_variable_that_is_not_a_toml_array() -> None:
    with pytest.raises(ConfigError) as caught:
        load(env={"ROLLER_BLUETOOTH_PROXIES": "proxy.local"})
    assert str(caught.value) == "ROLLER_BLUETOOTH_PROXIES='proxy.local' is not a TOML array"
