"""The proxy a reader names (`fetch --proxy`), checked once, with names always resolved by the proxy.

Example::

    checked_proxy("socks5://127.0.0.1:9050")     # "socks5h://127.0.0.1:9050": the proxy resolves mirror names
    checked_proxy("socks4://127.0.0.1:9050")     # ConfigError: SOCKS4 resolves names here, on this machine

With `socks5://`, requests and libtorrent look a mirror's name up in the local DNS, which a censor may watch or
poison, and only then ask the proxy for the address: the name leaks around the proxy. A reader who names a proxy
wants everything to go through it, so `socks5://` is taken as `socks5h://`. An HTTP(S) proxy resolves the names
it is asked for itself. SOCKS4 cannot carry a name (SOCKS4a is not offered by requests): refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from mirror.errors import ConfigError

SCHEMES = ("socks5h", "socks5", "http", "https")
_HINT = "give it as socks5h://HOST:PORT (Tor: socks5h://127.0.0.1:9050, Tor Browser: port 9150)"


def checked_proxy(proxy: str) -> str:
    """`proxy` with its names resolved by the proxy (socks5:// becomes socks5h://).

    Raises:
        ConfigError: not a URL, another scheme, no host, or a port missing or out of range.
    """
    try:
        parts = urlsplit(proxy.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ConfigError(f"not a valid proxy URL: {_shown(proxy)}", hint=_HINT) from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise ConfigError(f"the proxy URL does not say its type: {_shown(proxy)}", hint=_HINT)
    if scheme not in SCHEMES:
        raise ConfigError(f"a proxy of type {scheme}:// cannot be used: SOCKS5 or HTTP only", hint=_HINT)
    if not host or port is None or not 0 < port < 65536:
        raise ConfigError(f"the proxy needs a host and a port: {_shown(proxy)}", hint=_HINT)
    if scheme == SCHEMES[1]:  # socks5: the same proxy, asked to resolve the names itself
        scheme = SCHEMES[0]
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def _shown(proxy: str) -> str:
    return repr(shown_url(proxy))


def shown_url(url: str) -> str:
    """`url` as an error message may show it: what comes before its last "@" masked ("user:***@host", "***@host"
    for a token alone), also when the URL cannot be parsed (a bad port, an unclosed bracket)."""
    scheme, sep, rest = url.partition("://")
    if not sep:  # no scheme ("//user:pass@host:port", "user:pass@host"): all before the last "@" is masked
        at = url.rfind("@")
        return url if at < 0 else f"***@{url[at + 1:]}"
    at = rest.rfind("@")
    if at < 0:
        return url
    # A password typed with "/", "?" or "#" in it ends no authority: all before the last "@" is masked, even if
    # that "@" was in a path (a message then shows less of the URL, never a secret).
    user, colon, _ = rest[:at].partition(":")
    masked = f"{user}:***" if colon and not set("/?#@") & set(user) else "***"
    return f"{scheme}://{masked}@{rest[at + 1:]}"
