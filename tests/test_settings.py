from pathlib import Path

import pytest

from leadstream.deliver.target import (
    KEY_VARIABLE,
    SettingsError,
    Target,
    TargetKind,
    VendorKey,
    find_key,
    leadstream_home,
)
from leadstream.protocol.query import PHONEBURNER_URL

SECRET = "SECRET-KEY-7f3a9c"


def test_environment_wins_over_secrets_and_key_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'{KEY_VARIABLE} = "from-secrets"\n')
    key_file = tmp_path / "key.txt"
    key_file.write_text("from-file\n")
    found = find_key(env={KEY_VARIABLE: f"  {SECRET} "}, secrets_path=secrets, key_file=key_file)
    assert found is not None
    assert found.value == SECRET
    assert KEY_VARIABLE in found.source


def test_secrets_file_then_key_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'{KEY_VARIABLE} = "{SECRET}"\n')
    key_file = tmp_path / "key.txt"
    key_file.write_text("from-file\n")
    assert find_key(env={}, secrets_path=secrets, key_file=key_file) == VendorKey(
        SECRET, str(secrets)
    )
    missing = tmp_path / "absent.toml"
    found = find_key(env={}, secrets_path=missing, key_file=key_file)
    assert found is not None
    assert found.value == "from-file"


def test_no_key_anywhere_is_none(tmp_path: Path) -> None:
    assert find_key(env={}, secrets_path=tmp_path / "absent.toml") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not = [toml", "could not be read as TOML"),
    ],
)
def test_broken_secrets_file_says_what_to_do(tmp_path: Path, content: str, message: str) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(content)
    with pytest.raises(SettingsError, match=message):
        find_key(env={}, secrets_path=secrets)


def test_empty_or_missing_key_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "key.txt"
    empty.write_text("\n")
    with pytest.raises(SettingsError, match="empty"):
        find_key(env={}, secrets_path=None, key_file=empty)
    with pytest.raises(SettingsError, match="could not be read"):
        find_key(env={}, secrets_path=None, key_file=tmp_path / "nope.txt")


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"\xff\xfe\x00", "not text"), (b"XXX YYY", "more than one word"), (b"\xef\xbb\xbfKEY\n", "")],
)
def test_a_key_file_holds_one_word_of_text(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "key.txt"
    path.write_bytes(content)
    if not words:  # a byte-order mark, as Notepad writes it, is not part of the key
        assert find_key(env={}, secrets_path=None, key_file=path) == VendorKey("KEY", str(path))
        return
    with pytest.raises(SettingsError, match=words) as raised:
        find_key(env={}, secrets_path=None, key_file=path)
    assert "YYY" not in str(raised.value)


def test_vendor_key_never_shows_its_value() -> None:
    key = VendorKey(SECRET, "test")
    assert SECRET not in repr(key)
    assert SECRET not in str(key)
    assert SECRET not in f"{key}"


def test_home_from_environment(tmp_path: Path) -> None:
    assert leadstream_home({"LEADSTREAM_HOME": str(tmp_path)}) == tmp_path
    assert leadstream_home({}) == Path.home() / ".leadstream"


def test_sandbox_target_name_is_stable_across_ports() -> None:
    first = Target.sandbox("http://127.0.0.1:1111/api/vendor/put_contact")
    second = Target.sandbox("http://127.0.0.1:2222/api/vendor/put_contact")
    assert first.name == second.name == "sandbox"
    assert Target.live().url == PHONEBURNER_URL
    assert Target.live().is_live
    assert not first.is_live
    assert TargetKind.SANDBOX.label == "Built-in sandbox"


@pytest.mark.parametrize(
    "url",
    ["127.0.0.1:8765", "ftp://example.com/x", "", "http://h/p?key=1", "not a url"],
)
def test_custom_target_rejects_what_cannot_be_posted_to(url: str) -> None:
    with pytest.raises(SettingsError):
        Target.custom(url)


def test_custom_target_keeps_a_valid_url() -> None:
    target = Target.custom("  http://127.0.0.1:8765/api/vendor/put_contact ")
    assert target.url == "http://127.0.0.1:8765/api/vendor/put_contact"
    assert target.name == target.url
