"""Token encryption at rest: MultiFernet over TOKEN_ENCRYPTION_KEY (first key encrypts,
every key decrypts, so keys rotate by prepending a new one)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenCipherError(RuntimeError):
    """A stored token cannot be decrypted with any configured key."""


class TokenCipher:
    def __init__(self, keys: list[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(k) for k in keys]) if keys else None

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def encrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        if self._fernet is None:
            raise TokenCipherError("no TOKEN_ENCRYPTION_KEY: tokens cannot be stored")
        return self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, stored: str | None) -> str | None:
        if stored is None:
            return None
        if self._fernet is None:
            raise TokenCipherError("a stored token needs TOKEN_ENCRYPTION_KEY to be read")
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise TokenCipherError(
                "a stored token does not decrypt with any key in TOKEN_ENCRYPTION_KEY"
            ) from None
