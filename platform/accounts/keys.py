"""Generating, hashing and encrypting API key secrets."""

import base64
import hashlib
import hmac
import secrets
import string

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

_ID_ALPHABET = string.ascii_uppercase + "234567"


def new_access_key_id() -> str:
    # "CK" for co-op key, 20 characters like an AWS access key id.
    return "CK" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(18))


def new_secret() -> str:
    return secrets.token_urlsafe(30)[:40]


def hash_secret(secret: str) -> str:
    # A keyed hash: a leaked table alone does not allow offline guessing.
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def _fernet() -> Fernet:
    material = settings.API_KEY_ENCRYPTION_KEY or settings.SECRET_KEY
    key = base64.urlsafe_b64encode(hashlib.sha256(("api-key-encryption:" + material).encode()).digest())
    return Fernet(key)


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str | None:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None
