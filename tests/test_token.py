"""The REST access token's sources: environment, secrets.toml, a token file; masked when named."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadstream.deliver.target import TOKEN_VARIABLE, AccessToken, SettingsError, find_token

TOKEN = "pb-token-0123456789abcdef"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_environment_comes_first(tmp_path: Path) -> None:
    secrets = write(tmp_path / "secrets.toml", f'{TOKEN_VARIABLE} = "other"\n')
    found = find_token(env={TOKEN_VARIABLE: f"  {TOKEN}\n"}, secrets_path=secrets)
    assert found == AccessToken(TOKEN, f"the {TOKEN_VARIABLE} environment variable")


def test_then_secrets_toml_then_the_file(tmp_path: Path) -> None:
    secrets = write(
        tmp_path / "secrets.toml", f'LEADSTREAM_KEY = "k"\n{TOKEN_VARIABLE} = "{TOKEN}"\n'
    )
    token_file = write(tmp_path / "token.txt", "from-file\n")
    assert find_token(env={}, secrets_path=secrets, token_file=token_file).value == TOKEN  # type: ignore[union-attr]
    found = find_token(env={}, secrets_path=tmp_path / "missing.toml", token_file=token_file)
    assert found is not None
    assert (found.value, found.source) == ("from-file", str(token_file))


def test_nothing_configured_is_none(tmp_path: Path) -> None:
    assert find_token(env={}, secrets_path=tmp_path / "none.toml") is None


@pytest.mark.parametrize(
    ("content", "words"),
    [("", "is empty"), ("two words", "more than one word"), (b"\xff\xfe\x00", "not text")],
)
def test_bad_token_files_are_named_without_quoting_them(
    tmp_path: Path, content: str | bytes, words: str
) -> None:
    path = tmp_path / "token.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match=words) as raised:
        find_token(env={}, secrets_path=None, token_file=path)
    assert "two" not in str(raised.value)


def test_a_missing_token_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="could not be read"):
        find_token(env={}, secrets_path=None, token_file=tmp_path / "nope")


def test_the_token_never_shows_in_repr_or_str() -> None:
    token = AccessToken(TOKEN, "somewhere")
    assert TOKEN not in repr(token)
    assert TOKEN not in str(token)
    assert str(token) == "****ef (from somewhere)"
