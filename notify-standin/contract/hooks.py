"""Schemathesis hooks for the Notify contract run (SMS-2).

Every request gets a fresh `Authorization: Bearer <JWT>` made as GOV.UK Notify's
documentation says: header {"typ": "JWT", "alg": "HS256"}, claims `iss` (the service id)
and `iat` (now, Unix seconds), signed HS256 with the API key's secret. The key comes from
NOTIFY_API_KEY, `{key_name}-{service id}-{secret}`. Only the standard library is used,
so the run needs no JWT package: a third signer beside the server's and the stand-in's.
"""

import base64
import hashlib
import hmac
import json
import os
import time

import schemathesis


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _split_key(key: str) -> tuple[str, str]:
    """The service id and the secret: the two UUIDs at the end of the key."""
    if len(key) < 74 or key[-37] != "-" or key[-74] != "-":
        raise ValueError("NOTIFY_API_KEY is not {key_name}-{service id}-{secret}")
    return key[-73:-37], key[-36:]


def notify_jwt(key: str, now: int | None = None) -> str:
    service_id, secret = _split_key(key)
    header = _b64url(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    issued = int(time.time()) if now is None else now
    claims = _b64url(json.dumps({"iss": service_id, "iat": issued}, separators=(",", ":")).encode())
    signing_input = f"{header}.{claims}".encode("ascii")
    signature = hmac.new(secret.encode("ascii"), signing_input, hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64url(signature)}"


# No caching: a token is good for 30 seconds only, so each request gets its own.
@schemathesis.auth(refresh_interval=None)
class NotifyJwt:
    def get(self, case, ctx):
        return notify_jwt(os.environ["NOTIFY_API_KEY"])

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
