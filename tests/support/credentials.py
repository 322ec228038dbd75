"""A stand-in for Microsoft Entra ID: an async token credential that hands out a fixed token.

It replaces DefaultAzureCredential in tests (which would look for a real identity), and records
the scopes it was asked for.
"""

from __future__ import annotations

import time

from azure.core.credentials import AccessToken, AccessTokenInfo

TOKEN = "test-token-for-loopback-only"


class FakeTokenCredential:
    def __init__(self, token: str = TOKEN):
        self.token = token
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    async def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)

    async def get_token_info(self, *scopes: str, options=None) -> AccessTokenInfo:
        self.scopes.append(scopes)
        return AccessTokenInfo(self.token, int(time.time()) + 3600)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeTokenCredential:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()
