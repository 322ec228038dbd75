"""The demo's Azure Monitor stand-ins (Log Analytics, metrics) run on loopback and need no Azure AD
token: this credential hands the SDK a constant one, so no identity endpoint is ever asked."""

from __future__ import annotations

import time

from azure.core.credentials import AccessToken, AccessTokenInfo


class LoopbackCredential:
    """An async token credential for a local stand-in endpoint; never use it for Azure."""

    async def get_token(self, *scopes, **kwargs) -> AccessToken:
        return AccessToken("meshwatch-demo", int(time.time()) + 3600)

    async def get_token_info(self, *scopes, options=None) -> AccessTokenInfo:
        return AccessTokenInfo("meshwatch-demo", int(time.time()) + 3600)

    async def close(self) -> None:
        return None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        return None


def loopback_probe_context() -> dict[str, dict]:
    """`build_probe`'s context for the Azure Monitor kinds (logs and metrics) of the example mesh
    served by local stand-ins: each gets a LoopbackCredential."""
    return {kind: {"credential": LoopbackCredential()}
            for kind in ("azure_monitor_logs", "azure_monitor_metrics")}
